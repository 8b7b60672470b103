"""A database crash during a burst of writes loses no acknowledged entry (the sealer's promise).

A throwaway PostgreSQL cluster of its own (never the shared server): initdb in a temp dir,
migrate, 8 writers and the sealer at full speed, then SIGKILL to the postmaster and its
processes mid-burst, restart (crash recovery), seal what is left, and check.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from conftest import ROOT
from tests.servers import PG_BIN, free_port

pytestmark = pytest.mark.skipif(
    not (PG_BIN / "initdb").exists(), reason=f"no initdb at {PG_BIN} for a throwaway cluster"
)


# PostgreSQL refuses to run as root: as root (a container), run it as the postgres user.
AS_OWNER = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _pg_ctl(data: Path, *args: str) -> None:
    subprocess.run(
        [*AS_OWNER, PG_BIN / "pg_ctl", "-D", data, "-l", data.parent / "log", *args],
        check=True,
        capture_output=True,
    )


def _kill_cluster(data: Path) -> list[int]:
    """SIGKILL the postmaster and every process it started (by pid: ours only)."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    children = [
        int(status.parent.name)
        for status in Path("/proc").glob("[0-9]*/stat")
        if _ppid(status) == postmaster
    ]
    os.kill(postmaster, signal.SIGKILL)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    return [postmaster, *children]


def _wait_dead(data: Path, pids: list[int]) -> None:
    """Until every killed process is gone; a zombie no one reaps (a container's init) counts.

    A zombie still answers kill(pid, 0), so the restart would take the stale pid file for a
    running server: once they are all dead the lock files go, as after a machine crash.
    """
    for _ in range(200):
        if all(_state(pid) in (None, "Z") for pid in pids):
            break
        time.sleep(0.05)
    (data / "postmaster.pid").unlink(missing_ok=True)
    for socket_lock in data.parent.glob(".s.PGSQL.*.lock"):
        socket_lock.unlink()


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _ppid(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@pytest.fixture
def cluster():
    tmp_path = Path(tempfile.mkdtemp(prefix="privacy-crash-"))
    if AS_OWNER:
        shutil.chown(tmp_path, "postgres", "postgres")
    data = tmp_path / "pgdata"
    subprocess.run(
        [*AS_OWNER, PG_BIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-p {port} -k {tmp_path} -c listen_addresses=127.0.0.1 -c fsync=on"
    _pg_ctl(data, "-o", options, "-w", "start")
    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
        ) as admin:
            admin.execute("CREATE DATABASE crash")
        yield data, options, f"postgres://postgres@127.0.0.1:{port}/crash"
    finally:
        subprocess.run(
            [*AS_OWNER, PG_BIN / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(tmp_path, ignore_errors=True)


def _manage(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings_test",
        "DATABASE_URL": url,
        "PRIVACY_LOG_SEALER": "true",
    }
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_it_keeps_every_acknowledged_entry_through_a_crash(cluster):
    """SIGKILL mid-burst: after restart every acknowledged entry is there, the chain verifies."""
    data, options, url = cluster
    assert _manage(url, "migrate", "privacy", "-v0").returncode == 0
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("REDIS_URL", None)
    writer = subprocess.Popen(
        [sys.executable, "-m", "privacy.tests.crash_writer"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    acknowledged = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 500 and time.monotonic() < deadline:
        line = writer.stdout.readline()
        if not line:
            break
        acknowledged.append(line.split()[1])
    killed = _kill_cluster(data)
    rest, _ = writer.communicate(timeout=60)
    _wait_dead(data, killed)
    acknowledged += [line.split()[1] for line in rest.splitlines() if line.startswith("ack ")]
    assert len(acknowledged) >= 500

    try:
        _pg_ctl(data, "-o", options, "-w", "start")
    except subprocess.CalledProcessError:
        pytest.fail("\n".join((data.parent / "log").read_text().splitlines()[-8:]))
    sealed = _manage(
        url,
        "shell",
        "-c",
        "from privacy.services import privacy_log_seal; print(privacy_log_seal())",
    )
    assert sealed.returncode == 0, sealed.stderr
    with psycopg.connect(url) as conn:
        stored = {row[0] for row in conn.execute("SELECT request_id FROM privacy_privacylogentry")}
    assert set(acknowledged) <= stored
    verified = _manage(url, "verify_privacy_log")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"{len(stored)} entries verified")
