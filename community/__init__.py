"""Community: a self-hosted, plugin-based brand community platform."""

from community.app import create_app

__version__ = "0.1.0"
__all__ = ["create_app", "__version__"]
