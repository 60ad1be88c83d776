"""The WSGI entry point: `granian --interface wsgi wsgi:app`."""

from server import create_app

app = create_app()
