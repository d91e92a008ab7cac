"""Site settings stored in the database as typed JSON values."""
