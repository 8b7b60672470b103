""" "Mijn gegevens": its content (dates from settings and stored times), the page, the download."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import OperationalError

from privacy.models import PrivacyLogEntry
from pupils.models import IdentitySnapshot, Pupil
from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims, new_key

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")
UTC = dt.UTC


def _pupil_signed_in_at(moment: dt.datetime, **claims) -> Pupil:
    with time_machine.travel(moment, tick=False):
        return pupil_record_login(
            claims=leerid_claims(leer_id_uuid=new_key(), **claims), granted_schools=["012345"]
        )


def _my_data(pupil: Pupil):
    from ilearn_auth.my_data import my_data_for

    return my_data_for(Pupil.objects.select_related("snapshot").get(pk=pupil.pk))


# --- Content: each date from the settings and the stored times --------------------------------


def test_it_dates_the_removals_from_the_login_and_the_beat_schedule():
    """Login data goes at the first 05:00 UTC run after login + 365 days, the account at the
    first 04:00 UTC run after login + 1,095 days (dates in Brussels)."""
    pupil = _pupil_signed_in_at(dt.datetime(2026, 12, 6, 9, 30, tzinfo=UTC))
    data = _my_data(pupil)
    assert data.login_data.login_at == dt.datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    # 2027-12-06 09:30 UTC expires after that day's 05:00 run: the next run removes it.
    assert data.login_data.removed_on == dt.date(2027, 12, 7)
    # 1,095 days later is 2029-12-05 09:30 UTC (2028 has a 29 February).
    assert data.account_removed_on == dt.date(2029, 12, 6)


def test_it_counts_the_leap_day_as_a_day():
    """Periods are days of 24 h: a year after 1 March 2027 is 29 February 2028."""
    pupil = _pupil_signed_in_at(dt.datetime(2027, 3, 1, 3, 0, tzinfo=UTC))
    data = _my_data(pupil)
    # Expires 2028-02-29 03:00 UTC, before that day's 05:00 UTC run.
    assert data.login_data.removed_on == dt.date(2028, 2, 29)
    # Expires 2030-02-28 03:00 UTC, before that day's 04:00 UTC run.
    assert data.account_removed_on == dt.date(2030, 2, 28)


def test_it_follows_the_settings(settings):
    """Other periods in the settings give other dates; the page promises what the code does."""
    settings.RETENTION_SNAPSHOT_DAYS = 30
    settings.RETENTION_ACCOUNT_DAYS = 60
    pupil = _pupil_signed_in_at(dt.datetime(2027, 1, 10, 12, 0, tzinfo=UTC))
    data = _my_data(pupil)
    assert data.login_data.removed_on == dt.date(2027, 2, 10)
    assert data.account_removed_on == dt.date(2027, 3, 12)


def test_it_reads_the_schedule_from_the_settings(settings):
    """A snapshot rule run at 23:30 UTC removes in the same UTC night, which is the next day
    in Brussels."""
    from celery.schedules import crontab

    settings.CELERY_BEAT_SCHEDULE = {
        **settings.CELERY_BEAT_SCHEDULE,
        "retention-snapshots": {
            "task": "retention.purge_snapshots",
            "schedule": crontab(minute=30, hour=23),
        },
    }
    pupil = _pupil_signed_in_at(dt.datetime(2027, 6, 1, 12, 0, tzinfo=UTC))
    # Expires 2028-05-31 12:00 UTC; the run at 23:30 UTC is 01:30 on 1 June in Brussels (CEST).
    assert _my_data(pupil).login_data.removed_on == dt.date(2028, 6, 1)


def test_it_counts_whole_days_across_the_spring_dst_change(settings):
    """One day after 06:30 Brussels winter time on 27 March 2027 is 07:30 summer time on the
    28th (05:30 UTC): after that day's 05:00 UTC run, so the login data goes on the 29th.
    Adding a day on the Brussels clock would have said the 28th."""
    settings.RETENTION_SNAPSHOT_DAYS = 1
    login = dt.datetime(2027, 3, 27, 6, 30, tzinfo=BRUSSELS)
    assert login.utcoffset() == dt.timedelta(hours=1)
    pupil = _pupil_signed_in_at(login)
    assert _my_data(pupil).login_data.removed_on == dt.date(2027, 3, 29)


def test_it_gives_brussels_dates_across_the_autumn_dst_change(settings, client):
    """DST ends at 03:00 on 25 October 2026. A login at 00:30 summer time that night (22:30 UTC
    on the 24th) is dated the 25th on the page; one day later (23:30 winter time on the 25th)
    it expires after that day's run, so it goes at 05:00 UTC on the 26th."""
    settings.RETENTION_SNAPSHOT_DAYS = 1
    login = dt.datetime(2026, 10, 25, 0, 30, tzinfo=BRUSSELS)
    assert login.utcoffset() == dt.timedelta(hours=2)
    pupil = _pupil_signed_in_at(login)
    data = _my_data(pupil)
    assert data.login_data.removed_on == dt.date(2026, 10, 26)
    assert data.as_json(generated_at=login)["login_data"]["login_at"] == "2026-10-24T22:30:00+00:00"
    client.force_login(pupil.user)
    html = client.get("/mijn-gegevens/").content.decode()
    assert "25 oktober 2026, 00:30" in html
    assert "Op 26 oktober 2026 wissen we deze gegevens" in html


def test_it_names_the_schools_and_the_kind(demo_schools):
    """Enrollments and granted schools with their names; a temporary account says so."""
    with time_machine.travel(dt.datetime(2027, 1, 10, 12, 0, tzinfo=UTC), tick=False):
        pupil = pupil_record_login(
            claims=leerid_claims(enrollments=("012345", "031004")), granted_schools=["012345"]
        )
    data = _my_data(pupil)
    assert data.kind == Pupil.Kind.TEMPORARY
    assert not data.login_data.has_leerid_key
    assert [school.number for school in data.login_data.enrollments] == ["012345", "031004"]
    assert [school.number for school in data.login_data.granted_schools] == ["012345"]
    assert all(school.name for school in data.login_data.enrollments)


# --- The page and the download -----------------------------------------------------------------


@pytest.fixture
def signed_in(client):
    pupil = _pupil_signed_in_at(dt.datetime.now(UTC), given_name="Testa", family_name="Voorbeeldig")
    client.force_login(pupil.user)
    return pupil


def test_it_shows_what_is_stored_and_logs_the_view(client, signed_in):
    """The page shows the names, the kind and both dates; never a key; one sensitive_read."""
    snapshot = IdentitySnapshot.objects.get(pupil=signed_in)
    html = client.get("/mijn-gegevens/").content.decode()
    assert "Testa" in html
    assert "Voorbeeldig" in html
    assert "LeerID (geïdentificeerd)" in html
    assert signed_in.pseudonym[:12] in html
    assert str(snapshot.leer_id_uuid) not in html
    assert str(snapshot.account_uuid) not in html
    assert signed_in.pseudonym not in html
    entry = PrivacyLogEntry.objects.get(action="sensitive_read")
    assert entry.actor == f"pupil:{signed_in.pseudonym}"
    assert entry.subject == signed_in.pseudonym


def test_it_downloads_the_same_content_as_json_and_logs_it(client, signed_in):
    """The JSON holds the page's content (and the log lines); one sensitive_export, no key."""
    snapshot = IdentitySnapshot.objects.get(pupil=signed_in)
    client.get("/mijn-gegevens/")
    response = client.get("/mijn-gegevens/download/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert str(snapshot.leer_id_uuid) not in body
    assert str(snapshot.account_uuid) not in body
    data = json.loads(body)
    assert data["login_data"]["given_name"] == "Testa"
    assert data["login_data"]["schools_with_access"] == ["012345"]
    assert data["account"]["kind"] == "identified"
    assert data["account"]["helpdesk_code"] == signed_in.pseudonym[:12]
    assert [entry["action"] for entry in data["privacy_log"]] == ["sensitive_read"]
    entry = PrivacyLogEntry.objects.get(action="sensitive_export")
    assert entry.actor == f"pupil:{signed_in.pseudonym}"


def test_it_sends_signed_out_visitors_to_the_login_and_back(client):
    """Signed out: the login page, with next=/mijn-gegevens/ to come back to after login."""
    response = client.get("/mijn-gegevens/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/mijn-gegevens/"
    login_page = client.get(response["Location"]).content.decode()
    assert 'name="next" value="/mijn-gegevens/"' in login_page
    assert client.get("/mijn-gegevens/download/")["Location"].startswith("/login/")


def test_it_says_only_the_account_is_kept_after_the_one_year_rule(client, signed_in):
    """Snapshot purged, account kept: no names, and the date the account goes."""
    IdentitySnapshot.objects.filter(pupil=signed_in).delete()
    html = client.get("/mijn-gegevens/").content.decode()
    assert "We bewaren je naam en je scholen niet meer" in html
    assert "Testa" not in html
    assert "wissen we op" in html
    data = client.get("/mijn-gegevens/download/").json()
    assert data["login_data"] is None
    assert data["account"]["removed_on_without_login"]


def test_it_refuses_staff_without_a_pupil(client, django_user_model):
    """A signed-in user who is not a pupil gets the 403 page, not somebody's data."""
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    client.force_login(staff)
    assert client.get("/mijn-gegevens/").status_code == 403


def test_it_answers_the_503_page_when_the_database_is_down(client, signed_in, monkeypatch):
    """A download while the database is down is the 503 page, and no data leaves."""
    from django.db.backends.utils import CursorWrapper

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    client.raise_request_exception = False
    monkeypatch.setattr(CursorWrapper, "execute", down)
    response = client.get("/mijn-gegevens/download/")
    assert response.status_code == 503
    assert "i-Learn is even niet bereikbaar" in response.content.decode()
    assert "Testa" not in response.content.decode()
