"""What a dump of the database holds after a login: no LeerID or account key in clear, and
nothing of the claims outside the protocol's list."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from tests.oidc.conftest import login, pupil_claims

pytestmark = pytest.mark.django_db

OLD_ACCOUNT = str(uuid.uuid5(uuid.NAMESPACE_URL, "leerid-test/identified/old-account"))
# Claims some scopes bring that the protocol does not list: they must be dropped unread.
OUTSIDE_THE_PROTOCOL = {
    "vo_id": "vo-id-7d1f",
    "vo_orgnaam": "Geheime Testschool",
    "vo_doelgroepcode": "OV-doelgroep-7q",
    "birthdate": "2011-04-05",
    "email": "testa.fictief@example.test",
    "rrn": "11040512345",
}


@pytest.fixture(autouse=True)
def sessions_in_the_database(settings):
    """With REDIS_URL set (as in CI) sessions would live in Redis and the dump would hold none:
    keep them in the database here, so the dump reads what a session stores too."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


def database_dump() -> str:
    """Every value of every row of every table, as text (what a backup holds)."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - table names from the schema
            for row in cursor.fetchall():
                parts.extend(str(value) for value in row)
    # Database sessions hold their data encoded: decode it, as anyone with the dump could.
    if "django_session" in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute("SELECT session_data FROM django_session")
            parts.extend(str(SessionStore().decode(data)) for (data,) in cursor.fetchall())
    return "\n".join(parts).lower()


def spellings(key: str) -> list[str]:
    return [key.lower(), key.lower().replace("-", "")]


def test_it_keeps_no_leerid_or_account_key_in_clear(client, op, demo_schools):
    """After a login the dump holds none of the pupil's keys, in either spelling."""
    op.claims = pupil_claims(ov_historiek_account_uuid=[OLD_ACCOUNT])
    assert login(client, op)["Location"] == "/"
    dump = database_dump()
    assert "_auth_user_id" in dump  # the pupil's session was read, decoded
    assert "fictief" not in dump  # names are encrypted (as before)
    keys = [*op.claims["ov_leerid_uuid"], op.claims["ov_account_uuid"], OLD_ACCOUNT]
    for key in keys:
        for spelling in spellings(key):
            assert spelling not in dump


def test_it_stores_nothing_of_the_claims_outside_the_protocol(client, op, demo_schools):
    """vo_*, birthdate, e-mail, rrn sent by the OP are dropped: nowhere in the dump."""
    op.claims = pupil_claims(**OUTSIDE_THE_PROTOCOL)
    assert login(client, op)["Location"] == "/"
    dump = database_dump()
    assert "_auth_user_id" in dump  # the pupil's session was read, decoded
    for value in OUTSIDE_THE_PROTOCOL.values():
        assert value.lower() not in dump
