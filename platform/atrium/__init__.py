"""The Atrium Django project: settings, URL configuration and the WSGI/ASGI entry points."""

__version__ = "0.1.0"
