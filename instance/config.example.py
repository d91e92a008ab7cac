# Copy to instance/config.py (or set the same names as COMMUNITY_<NAME> environment variables).

# Unset: a random key is kept in instance/secret_key.
# SECRET_KEY = "a long random string"

# PostgreSQL in production (psycopg 3); SQLite in instance/community.db when unset.
# DATABASE_URL = "postgresql://community:secret@127.0.0.1:5432/community"

# Mail, sent by `community worker`: "console" (log), "file" (instance/mail/*.eml), "smtp", or
# "package.module:ClassName" (a community.mail.MailBackend subclass).
# MAIL_BACKEND = "smtp"
# MAIL_SMTP_HOST = "smtp.example.com"
# MAIL_SMTP_PORT = 587
# MAIL_SMTP_TLS = True  # STARTTLS; or MAIL_SMTP_PORT = 465 and MAIL_SMTP_SSL = True
# MAIL_SMTP_USERNAME = "community@example.com"
# MAIL_SMTP_PASSWORD = "..."
# MAIL_FROM = "Example Community <community@example.com>"

# Share rate-limit counters between workers:
# RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"
