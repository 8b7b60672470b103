"""The product run as docker-compose.yml runs it, as processes on this machine (no Docker engine).

One stack per test module: a throwaway PostgreSQL (main and erasure-ledger databases) and Redis
of its own (tests/servers.py: the fault tests stop and restart them), the stand-in LeerID on
loopback, then Compose's ``migrate`` command, the image's ``CMD`` (gunicorn, ``DEBUG=false``,
production settings), Compose's ``worker`` and ``beat`` commands. The commands are read from
``docker-compose.yml`` and the Dockerfile, never written here again; only the environment is
the test's (addresses, throwaway secrets, a TLS certificate for gunicorn in place of the proxy,
and ``RETENTION_SCHEDULE_SECONDS`` so beat sends the retention tasks every few seconds).
Each process writes its output to a file, which the tests search for personal data.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import yaml
from cryptography.fernet import Fernet

from tests.servers import Postgres, Redis, free_port, missing_binaries

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE_SECONDS = 4


def compose_commands() -> dict[str, list[str]]:
    """Each service's command as Compose runs it; web's is the image's CMD."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = {
        name: service["command"]
        for name, service in compose["services"].items()
        if name in ("migrate", "worker", "beat")
    }
    assert "command" not in compose["services"]["web"], "web runs the image's CMD"
    commands["web"] = image_command()
    return commands


def image_command() -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    assert match, "the Dockerfile has an exec-form CMD"
    return json.loads(match.group(1))


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: gunicorn speaks TLS as the proxy would."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Stack:
    folder: Path
    postgres: Postgres
    redis: Redis
    env: dict[str, str]
    web_port: int
    leerid_port: int
    commands: dict[str, list[str]]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # Compose's `restart: unless-stopped`: a service that exits by itself is started again.
    restarts: list[str] = field(default_factory=list)
    _launch: dict[str, tuple[list[str], dict]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.web_port}"

    def log_path(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def run(self, name: str, command: list[str], **env: str) -> None:
        """A one-shot command (migrate, seeding) that must succeed."""
        with self.log_path(name).open("ab") as out:
            subprocess.run(
                command,
                cwd=ROOT,
                env={**self.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=180,
            )

    def start(
        self, name: str, command: list[str], *, base: dict | None = None, **env: str
    ) -> subprocess.Popen:
        full_env = {**(self.env if base is None else base), **env}
        out = self.log_path(name).open("ab")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        with self._lock:
            self.processes[name] = process
            self._launch[name] = (command, full_env)
        return process

    def supervise(self, stop: threading.Event) -> None:
        """Restart services that exit by themselves, as Compose's restart policy does."""
        while not stop.wait(0.5):
            with self._lock:
                dead = [n for n, p in self.processes.items() if p.poll() is not None]
            for name in dead:
                if name == "leerid":
                    continue
                self.restarts.append(name)
                command, env = self._launch[name]
                self.start(name, command, base=env)

    def kill(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Signal the whole process group (a prefork worker's children too) and reap it."""
        with self._lock:
            process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def output(self) -> str:
        """Everything our processes wrote (not the stand-in LeerID's)."""
        return "\n".join(
            path.read_text(errors="replace")
            for path in sorted(self.folder.glob("*.log"))
            if path.name != "leerid.log"
        )

    def sql(self, query: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(
            self.postgres.url("ilearn").replace("postgres://", "postgresql://")
        ) as conn:
            return conn.execute(query, params).fetchall()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    pytest.fail(
                        f"{name} exited with {process.returncode}:\n{self.output()[-3000:]}"
                    )
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", verify=False, timeout=2).ok:
                    return
            time.sleep(0.3)
        pytest.fail(f"gunicorn did not answer within {timeout} s:\n{self.output()[-3000:]}")

    def set_leerid_user(self, sub: str, claims: dict) -> None:
        response = requests.put(
            f"http://127.0.0.1:{self.leerid_port}/users/{sub}", json=claims, timeout=5
        )
        assert response.status_code == 204


def sign_in(stack: Stack, sub: str, session: requests.Session | None = None):
    """A browser-like client signs in as ``sub`` at the stand-in LeerID; the final response."""
    browser = session or requests.Session()
    # Per request: a session-wide verify=False loses to REQUESTS_CA_BUNDLE in the environment.
    start = browser.get(
        f"{stack.url}/oidc/authenticate/", allow_redirects=False, timeout=15, verify=False
    )
    if start.status_code != 302 or not start.headers["Location"].startswith("http://127.0.0.1"):
        return browser, start
    authorize = start.headers["Location"]
    response = browser.post(
        authorize, data={"sub": sub}, allow_redirects=True, timeout=30, verify=False
    )
    return browser, response


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    reason = missing_binaries()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("production")
    postgres, redis = Postgres(), Redis()
    postgres.start()
    redis.start()
    processes: dict[str, subprocess.Popen] = {}
    try:
        postgres.create_database("ilearn")
        postgres.create_database("ilearn_ledger")
        cert, key = _certificate(folder)
        web_port, leerid_port = free_port(), free_port()
        venv_bin = str(Path(sys.executable).parent)
        env = {
            # What the image sets (Dockerfile ENV) and .env would hold.
            "PATH": f"{venv_bin}:{os.environ['PATH']}",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PSEUDONYM_KEY": secrets.token_urlsafe(40),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{web_port}",
            "DATABASE_URL": postgres.url("ilearn"),
            "ERASURE_LEDGER_DATABASE_URL": postgres.url("ilearn_ledger"),
            "REDIS_URL": redis.url(),
            "LEERID_ISSUER": f"http://127.0.0.1:{leerid_port}",
            "ALLOW_INSECURE_LOOPBACK_ISSUER": "true",
            "LEERID_CLIENT_ID": "ilearn-smoke",
            "LEERID_CLIENT_SECRET": secrets.token_urlsafe(32),
            "LOG_FORMAT": "json",
            "METRICS_ALLOWED_IPS": "127.0.0.1",
            "STATIC_ROOT": str(folder / "static"),
            "CELERY_BEAT_SCHEDULE_FILENAME": str(folder / "beat-schedule"),
            "RETENTION_SCHEDULE_SECONDS": str(SCHEDULE_SECONDS),
            "RETENTION_SCAN_SIZE": "200",
            "WEB_CONCURRENCY": "2",
            # In place of the TLS proxy: gunicorn itself speaks https on a port of ours.
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{web_port} --certfile {cert} --keyfile {key}",
        }
        stack = Stack(
            folder=folder,
            postgres=postgres,
            redis=redis,
            env=env,
            web_port=web_port,
            leerid_port=leerid_port,
            commands=compose_commands(),
            processes=processes,
        )
        from demo.leerid import provider_command

        # Not in our environment: its uvicorn would read WEB_CONCURRENCY, for one.
        stack.start("leerid", provider_command(leerid_port, "127.0.0.1"), base=dict(os.environ))
        # As the image build does it (Dockerfile RUN ... collectstatic), then Compose's migrate.
        stack.run(
            "collectstatic", ["python", "manage.py", "collectstatic", "--noinput"], DEBUG="true"
        )
        stack.run("migrate", stack.commands["migrate"])
        stack.run("seed", ["python", "manage.py", "seed_demo"])
        stack.start("web", stack.commands["web"])
        stack.start("worker", stack.commands["worker"])
        stack.start("beat", stack.commands["beat"])
        stack.wait_ready()
        stop = threading.Event()
        supervisor = threading.Thread(target=stack.supervise, args=(stop,), daemon=True)
        supervisor.start()
        yield stack
        stop.set()
        supervisor.join(timeout=5)
    finally:
        for process in processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        redis.destroy()
        postgres.destroy()
