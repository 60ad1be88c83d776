"""The WSGI entry point: `python -m server.webserver wsgi:app` (what `flask serve` runs)."""

from server import create_app

app = create_app()


def on_worker_exit() -> None:
    """Hand this worker's last hits to the event sink; the web server calls it as a worker ends."""
    app.extensions["leadcamp.sink"].close()
