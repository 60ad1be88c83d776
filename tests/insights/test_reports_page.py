"""The Reports page: charts with their tables, who may see whose, the CSV beside it."""

from __future__ import annotations

import pytest

from server.extensions import db
from server.models import User
from tests.support import auth
from tests.support import reports as history
from tests.support.admin import sign_in

WEEK = "period=week&periods=2&date=2026-11-25"


@pytest.fixture
def people(make_user, fresh_g_per_request):
    return history.build(make_user)


@pytest.fixture
def login(app):
    def login(user: User):
        return sign_in(app.test_client(), app.config["SECRET_KEY"], user)

    return login


def test_a_rep_sees_their_charts_and_the_numbers_in_tables(login, people):
    page = login(people.rep).get(f"/reports?{WEEK}")
    assert page.status_code == 200
    html = page.text
    for chart in ("chart-sent", "chart-rates", "chart-hits"):
        assert (
            f'id="{chart}"' in html
            and f'aria-labelledby="{chart}-t" aria-describedby="{chart}-d"' in html
        )
    for table in ("report-comparison", "table-sent", "table-rates", "table-hits"):
        assert f'id="{table}"' in html
    # The hand-made week: 50 % real opens against 33.3 % the week before; medians 1.5 h, 30 min.
    assert "<td>50.0%</td><td>33.3%</td><td>+16.7 pts</td>" in html
    assert "<td>1.5 h</td><td>30 min</td><td>+1.0 h</td>" in html
    assert "table-reps" not in html  # the team's table is an admin's
    assert "other@acme.test" not in html and "eve@evil.test" not in html


def test_a_rep_cannot_open_another_reps_or_accounts_report(login, people):
    client = login(people.rep)
    for victim in (people.other_rep, people.stranger):
        assert client.get(f"/reports?user={victim.id}").status_code == 404
        assert client.get(f"/reports/export.csv?user={victim.id}").status_code == 404
    outsider = login(people.stranger)
    assert outsider.get(f"/reports?user={people.rep.id}").status_code == 404


def test_an_admin_sees_the_team_with_each_rep(login, people):
    client = login(people.admin)
    html = client.get(f"/reports?{WEEK}").text
    assert 'id="table-reps"' in html
    assert "rep@acme.test" in html and "other@acme.test" in html and "eve@evil.test" not in html
    one = client.get(f"/reports?{WEEK}&user={people.other_rep.id}")
    assert one.status_code == 200 and "other@acme.test: messages sent" in one.text


def test_bad_arguments_and_anonymous_visitors(app, login, people):
    assert login(people.rep).get("/reports?period=fortnight").status_code == 400
    anonymous = app.test_client().get("/reports")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


def test_the_pages_csv_is_the_apis(client, login, people):
    page_csv = login(people.admin).get(f"/reports/export.csv?{WEEK}")
    assert page_csv.status_code == 200 and page_csv.mimetype == "text/csv"
    from server.accounts import users as accounts

    token = accounts.create_api_token(db.session, people.admin)
    db.session.commit()
    api_csv = client.get(f"/api/v1/reports/export?{WEEK}", headers=auth(token))
    assert page_csv.text == api_csv.text


def test_the_nav_links_to_reports(login, people):
    for user in (people.rep, people.admin):
        html = login(user).get("/admin/contacts").text
        assert 'href="/reports">Reports</a>' in html
