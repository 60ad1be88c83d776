"""Deactivation, reactivation and role changes end the member's sessions, copies included."""

from __future__ import annotations

from tests.support.admin import post_form


def copy_of(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def home(client) -> int:
    """The status of the signed-in home page (302: sent to sign in)."""
    return client.get("/").status_code


def test_a_cookie_from_before_a_deactivation_stays_dead_after_reactivation(app, login, people):
    admin, rep = login(people.admin), login(people.rep)
    thief = copy_of(app, rep)
    assert home(rep) == home(thief) == 200
    path = f"/admin/team/{people.rep.id}"
    assert post_form(admin, f"{path}/deactivate", "/admin/team").status_code == 302
    assert home(thief) == 302
    assert post_form(admin, f"{path}/reactivate", "/admin/team").status_code == 302
    assert home(rep) == home(thief) == 302
    assert home(login(people.rep)) == 200  # the reactivated rep signs in again
    assert admin.get("/admin/team").status_code == 200


def test_a_role_change_ends_the_members_sessions(app, login, people):
    admin, rep = login(people.admin), login(people.rep)
    thief = copy_of(app, rep)
    assert home(thief) == 200
    path = f"/admin/team/{people.rep.id}/role"
    assert post_form(admin, path, "/admin/team", role="admin").status_code == 302
    assert home(rep) == home(thief) == 302
    promoted = login(people.rep)
    assert promoted.get("/admin/team").status_code == 200
    # Saving the role a member has already changes nothing and ends nothing.
    assert post_form(admin, path, "/admin/team", role="admin").status_code == 302
    assert promoted.get("/admin/team").status_code == 200
    # The admin who made the change stays signed in.
    assert admin.get("/admin/team").status_code == 200
