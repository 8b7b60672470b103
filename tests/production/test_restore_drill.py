"""The restore drill of docs/operations.md, on a throwaway PostgreSQL, with the real tools.

pg_dump of a seeded database; a pupil erased on request after the backup; the backup restored
into a new database; then, as the runbook says: verify_privacy_log, apply_erasures (from the
erasure ledger, which lives in its own database and was not restored), run_retention. The
erased pupil stays gone, the periods apply, the privacy log verifies before and after.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.production.conftest import ROOT, compose_commands
from tests.servers import Postgres, missing_binaries

pytestmark = pytest.mark.production

SEED = """
import json
from datetime import timedelta
from django.utils import timezone
import privacy
from retention.tests.factories import make_pupil

now = timezone.now()
pupils = {
    "kept": make_pupil(login_at=now - timedelta(days=3)),
    "erased": make_pupil(login_at=now - timedelta(days=5)),
    "old_snapshot": make_pupil(login_at=now - timedelta(days=400)),
    "inactive": make_pupil(login_at=now - timedelta(days=1200)),
}
for pupil in pupils.values():
    privacy.log("authn_login_success", actor=f"pupil:{pupil.pseudonym}", subject=pupil.pseudonym)
print(json.dumps({name: pupil.pseudonym for name, pupil in pupils.items()}))
"""

ERASE = """
import sys
from pupils.models import Pupil
from pupils.services import pupil_erase
pupil_erase(pupil=Pupil.objects.get(pseudonym=sys.argv[1]), actor="staff:1")
"""


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def django_script(env: dict, script: str, *args: str) -> str:
    code = "import django; django.setup()\n" + script
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture
def postgres():
    reason = missing_binaries()
    if reason:
        pytest.skip(reason)
    server = Postgres()
    server.start()
    yield server
    server.destroy()


def test_a_restored_backup_verifies_applies_the_periods_and_keeps_erasures(
    postgres: Postgres, tmp_path: Path
):
    """Backup, erase, restore, replay: the erased pupil does not come back."""
    postgres.create_database("ilearn")
    postgres.create_database("ilearn_ledger")
    # The keys are the same before and after: kept apart from the backups (README, Backups).
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PSEUDONYM_KEY": secrets.token_urlsafe(40),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": postgres.url("ilearn"),
        "ERASURE_LEDGER_DATABASE_URL": postgres.url("ilearn_ledger"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("REDIS_URL", None)  # no Redis: the cache and the retention lock stay in-process
    migrate = subprocess.run(
        compose_commands()["migrate"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    pseudonyms = json.loads(django_script(env, SEED).strip().splitlines()[-1])

    backup = tmp_path / "ilearn.dump"
    dump = ["pg_dump", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres"]
    subprocess.run([*dump, "-Fc", "-f", str(backup), "ilearn"], check=True)

    # After the backup, the DPO erases a pupil on request.
    django_script(env, ERASE, pseudonyms["erased"])

    # The database is lost; the backup goes into a new one. The ledger's database stays.
    postgres.create_database("ilearn_restored")
    restore = ["pg_restore", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres"]
    subprocess.run([*restore, "--no-owner", "-d", "ilearn_restored", str(backup)], check=True)
    restored = {**env, "DATABASE_URL": postgres.url("ilearn_restored")}

    def present() -> set[str]:
        rows = postgres.psql("SELECT pseudonym FROM pupils_pupil", database="ilearn_restored")
        return set(rows.split())

    assert pseudonyms["erased"] in present(), "the backup holds the pupil erased after it"

    verified = manage(restored, "verify_privacy_log")
    assert verified.returncode == 0, verified.stderr
    replayed = manage(restored, "apply_erasures")
    assert replayed.returncode == 0, replayed.stderr
    assert "1 pupils erased again" in replayed.stdout
    retention = manage(restored, "run_retention")
    assert retention.returncode == 0, retention.stderr

    assert present() == {pseudonyms["kept"], pseudonyms["old_snapshot"]}
    snapshots = postgres.psql(
        "SELECT p.pseudonym FROM pupils_identitysnapshot s "
        "JOIN pupils_pupil p ON p.id = s.pupil_id",
        database="ilearn_restored",
    )
    assert snapshots.split() == [pseudonyms["kept"]]
    assert manage(restored, "verify_privacy_log").returncode == 0
