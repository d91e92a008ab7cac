"""The WSGI application for production servers: ``gunicorn community.wsgi:app``.

Configuration comes from ``instance/config.py`` and ``COMMUNITY_*`` environment variables.
"""

from community import create_app

app = create_app()
