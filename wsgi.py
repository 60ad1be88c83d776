"""The WSGI entry point. `flask serve` runs granian on `wsgi:web`; `flask --app wsgi` uses `app`."""

from server import create_app
from server.common.files import private_umask
from server.web import served

# Every service process (serve, its web workers, jobs worker, sink drain, each CLI command) comes
# through here: what it or a library creates from now on is readable by its user only.
private_umask()
app = create_app()


def on_worker_exit() -> None:
    """Hand this worker's last hits to the event sink; call it from a server's worker-exit hook."""
    app.extensions["leadcamp.sink"].close()


# What a web worker serves: the app behind the access log and the hung-request watchdog.
web = served(app, on_worker_exit)
