"""Accounts: registration, confirmation, login, password reset, profiles, roles."""
