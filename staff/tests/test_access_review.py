"""The DPO's access review: every staff account and what it may see, as a page and a CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from privacy import actions
from staff.models import Lockout
from staff.selectors import access_review_rows
from staff.tests.conftest import entries, make_staff, sign_in, sign_in_password

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]
URL = "/admin/staff/access-review/"


@pytest.fixture
def team(support, dpo, client):
    agreements = make_staff("ann-agreements", "Agreements", device=False)
    for _ in range(5):
        sign_in_password(client, agreements.username, "wrong-password-1")
    get_user_model().objects.create_user("pupil-not-staff")
    return {"support": support, "dpo": dpo, "agreements": agreements}


def test_it_lists_every_staff_account_and_what_it_may_see(team):
    """Groups, personal data or not, second factor, undertaking, last sign-in, locked."""
    rows = {row.username: row for row in access_review_rows()}
    assert set(rows) == {"sam-support", "dana-dpo", "ann-agreements"}
    assert rows["sam-support"].groups == ("Support",)
    assert rows["sam-support"].areas == ("pupils",)
    assert rows["ann-agreements"].areas == ("schools",)
    assert "privacy" in rows["dana-dpo"].areas
    assert rows["sam-support"].sees_personal_data
    assert rows["dana-dpo"].sees_personal_data
    assert not rows["ann-agreements"].sees_personal_data
    assert rows["sam-support"].second_factor
    assert not rows["ann-agreements"].second_factor
    assert rows["sam-support"].undertaking_signed_on is not None
    assert rows["ann-agreements"].undertaking_signed_on is None
    assert rows["ann-agreements"].locked
    assert not rows["dana-dpo"].locked
    assert Lockout.objects.count() == 1


def test_it_counts_a_superuser_as_seeing_personal_data(db):
    """A superuser sees everything, whatever its groups."""
    get_user_model().objects.create_superuser("root", password="a-long-staff-password-1")
    [row] = access_review_rows()
    assert row.is_superuser and row.sees_personal_data
    assert row.areas == ("*",)


def test_it_shows_the_dpo_the_page_and_logs_it(client, team):
    """The page lists the accounts; opening it is logged."""
    client.defaults["REMOTE_ADDR"] = "127.0.0.3"
    sign_in(client, team["dpo"])
    index = client.get(reverse("admin:index")).content.decode()
    assert URL in index
    response = client.get(URL)
    assert response.status_code == 200
    assert "ann-agreements" in response.content.decode()
    [opened] = entries(actions.STAFF_ACCESS_REVIEWED)
    assert opened.actor == f"staff:{team['dpo'].pk}"
    assert opened.details == {"format": "html", "accounts": 3}


def test_it_exports_the_review_as_csv(client, team):
    """The CSV holds the same rows, one per account; the export is logged."""
    client.defaults["REMOTE_ADDR"] = "127.0.0.3"
    sign_in(client, team["dpo"])
    response = client.get(URL, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_name = {row["username"]: row for row in rows}
    assert by_name["ann-agreements"]["locked"] == "yes"
    assert by_name["sam-support"]["sees_personal_data"] == "yes"
    assert by_name["sam-support"]["second_factor"] == "yes"
    assert entries(actions.STAFF_ACCESS_REVIEWED)[0].details["format"] == "csv"


def test_the_csv_never_hands_a_spreadsheet_a_formula(client, team):
    """An account name someone typed as a formula arrives as text (CSV injection)."""
    make_staff("=HYPERLINK(1)", device=False)
    client.defaults["REMOTE_ADDR"] = "127.0.0.3"
    sign_in(client, team["dpo"])
    rows = list(csv.DictReader(io.StringIO(client.get(URL, {"format": "csv"}).content.decode())))
    assert "'=HYPERLINK(1)" in [row["username"] for row in rows]


def test_it_keeps_the_review_from_support(client, support):
    """Support may not open the review (403), and is not shown the link."""
    sign_in(client, support)
    assert client.get(URL).status_code == 403
    assert URL not in client.get(reverse("admin:index")).content.decode()
    assert not entries(actions.STAFF_ACCESS_REVIEWED)


def test_the_user_list_costs_the_same_queries_for_more_accounts(client, team):
    """Second factor and undertaking come with the list's query, not one query per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from staff.testing import undertaking_signed

    client.defaults["REMOTE_ADDR"] = "127.0.0.3"
    sign_in(client, team["dpo"])
    url = reverse("admin:auth_user_changelist")
    counts = []
    for more in (0, 4):
        for n in range(more):
            undertaking_signed(make_staff(f"extra-{n}", "Agreements"))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
