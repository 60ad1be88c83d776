"""Tracking: the pixel and redirect (a plain-WSGI fast path) and robots.txt."""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from config import Settings

bp = Blueprint("tracking", __name__)


@bp.get("/robots.txt")
def robots():
    """Keep crawlers off tracking links: a crawled link is a false open."""
    body = "User-agent: *\nDisallow: /o/\nDisallow: /c/\n"
    return Response(body, mimetype="text/plain")


def install_fast_path(app: Flask, settings: Settings) -> None:
    """Wrap the app's WSGI callable with the fast path; keep the recorder on app.extensions."""
    from server.tracking.deidentify import IpHasher
    from server.tracking.fastpath import TrackingFastPath
    from server.tracking.geo import GeoLocator
    from server.tracking.hits import HitRecorder, TrackingSwitches
    from server.tracking.ip_keys import StoredKeys
    from server.tracking.sinks import build_sink
    from server.tracking.writer import app_engine, event_writer

    sink = build_sink(settings, event_writer(app, settings))
    engine = lambda: app_engine(app)  # noqa: E731 - resolved lazily: the app is not set up yet
    recorder = HitRecorder(
        sink,
        GeoLocator(settings.geoip_database),
        IpHasher(StoredKeys(engine), settings.ip_hash_rotation_hours),
        network_index(settings),
        settings.trusted_proxies,
        switches=TrackingSwitches(engine),
    )
    app.extensions["leadcamp.sink"] = sink
    app.extensions["leadcamp.recorder"] = recorder
    app.wsgi_app = TrackingFastPath(app.wsgi_app, recorder, settings.link_secrets)


def network_index(settings: Settings):
    """Who owns which addresses: the network data in force and the ASN database, if any."""
    from server.tracking.verdicts import network

    path = network.data_path(settings.instance_path, settings.network_data)
    return network.load(path, settings.asn_database)
