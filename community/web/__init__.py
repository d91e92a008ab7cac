"""Site-wide pages (home, language switch), helpers and error pages."""
