"""Command lines for the three kinds of server the bench starts: nginx, bare Flask and ours."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from server.cli.serve import web_command
from server.tracking.fastpath import GIF, NO_CACHE

OUR_TARGET = "wsgi:web"
BARE_TARGET = "bench.bare_app:app"
NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 2;
pid {dir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    types {{ image/gif gif; }}
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    etag off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        location = /pixel.gif {{
            add_header Cache-Control "{cache}";
            add_header Pragma "no-cache";
            add_header X-Robots-Tag "noindex, nofollow";
        }}
    }}
}}
"""


def nginx_command(nginx: str, workdir: Path, port: int) -> list[str]:
    """Write nginx's config and the GIF under `workdir`; return the command serving them."""
    www = workdir / "www"
    www.mkdir(parents=True, exist_ok=True)
    (www / "pixel.gif").write_bytes(GIF)
    # nginx's workers drop to an unprivileged user when started as root: let them reach the file
    # (the scratch directory above is private to whoever runs the bench; traversing is enough).
    workdir.parent.chmod(workdir.parent.stat().st_mode | 0o111)
    for path in (workdir, www):
        path.chmod(0o755)
    (www / "pixel.gif").chmod(0o644)
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, port=port, cache=NO_CACHE))
    # Errors to stderr, which the bench captures, from the very start (-e).
    return [nginx, "-e", "stderr", "-p", str(workdir), "-c", str(conf)]


def web_server(port: int, target: str) -> list[str]:
    """The production web server's command line for `target` on 127.0.0.1:`port`.

    BENCH_WORKERS (default 2, as `flask serve`) and BENCH_SERVER_ARGS (extra options, for trying
    variants) apply to ours and to the bare baseline alike, so they stay comparable.
    """
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    # Only loopback traffic, whatever HOST says in the environment.
    command = web_command(port=port, workers=workers, env={**os.environ, "HOST": "127.0.0.1"})
    if command[-1] != OUR_TARGET:
        raise RuntimeError(f"unexpected web server command line: {command}")
    extra = shlex.split(os.environ.get("BENCH_SERVER_ARGS", ""))
    return [*command[:-1], *extra, target]


def describe_web_server() -> str:
    """The web server's options the bench used, for the report (port, host and target left out)."""
    command = web_server(0, "APP")[:-1]
    start = command.index("-m") + 1
    skip = {"--port", "--host"}
    kept = [
        a
        for i, a in enumerate(command[start:], start)
        if a not in skip and command[i - 1] not in skip
    ]
    return shlex.join(kept)
