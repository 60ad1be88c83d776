"""Rate limits while the shared count in Redis cannot be reached."""

from __future__ import annotations

from tests.auth.test_throttle import ATTACKER, LIMIT, client_from, exhaust
from tests.conftest import running_app
from tests.support.live import free_port


def test_while_redis_is_down_each_worker_counts_in_memory(settings):
    """Sign-in neither fails nor goes unthrottled when Redis does not answer."""
    down = settings.replace(
        redis_url=f"redis://127.0.0.1:{free_port()}/0", rate_limit_sign_in=f"{LIMIT} per minute"
    )
    for app in running_app(down):
        attacker = client_from(app, ATTACKER)
        exhaust(lambda: attacker.get("/auth/magic/x"), 200)  # noqa: B023
