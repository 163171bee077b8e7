"""The Dash dashboard: ``create_app()`` and its page, panels and callbacks."""

from fracdash.web.app import create_app

__all__ = ["create_app"]
