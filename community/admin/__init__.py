"""Admin pages: spaces, users and roles, site settings."""
