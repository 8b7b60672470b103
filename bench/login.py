"""Full LeerID logins through a real OpenID Provider, against gunicorn and PostgreSQL.

    .venv/bin/python bench/login.py                 # the full run: 0 and 1,000,000 pupils
    .venv/bin/python bench/login.py --quick         # a small run to try it out (~1 minute)
    .venv/bin/python bench/login.py --sizes 0 --concurrency 1,4 --logins 100 --rounds 1

What runs: panva's oidc-provider (tests/op, `npm ci` on first use) as LeerID; our app
(`bench.login_settings_ours`: the production settings) and, interleaved in the same run, stock
mozilla-django-oidc (`bench.login_settings_stock`: its documented RS256 configuration, users
keyed on `sub`, Django's defaults), each under gunicorn (sync workers) on the database in
DATABASE_URL (default: postgres://postgres@127.0.0.1:5432/h_oidc; its pupil and user tables are
EMPTIED). Each virtual user is one pupil with a LeerID session at the OP (SSO, as in a school
day) and a fresh i-Learn session for every login; a login is GET /oidc/authenticate/, the OP's
redirects, and the callback. The driver is raw http.client with manual cookies and redirects.

Printed per table size, concurrency and app: logins/s; p50/p95 of the callback; SQL queries per
login (authenticate + callback, counted in the app by a middleware); CPU per login of the app
(gunicorn master and workers), the OP, the whole PostgreSQL server (shared with anything else
running on it) and this driver. Raw numbers go to bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
OP_DIR = ROOT / "tests" / "op"
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
OURS, STOCK = "ours", "stock"


# --- A lean browser: keep-alive per origin, cookies per origin, redirects by hand -----------


class Browser:
    def __init__(self) -> None:
        self.connections: dict[str, http.client.HTTPConnection] = {}
        self.jars: dict[str, dict[str, str]] = {}

    def get(self, url: str) -> tuple[int, http.client.HTTPMessage]:
        parts = urlsplit(url)
        origin = parts.netloc
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        jar = self.jars.setdefault(origin, {})
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}
        for attempt in (1, 2):
            connection = self.connections.get(origin)
            if connection is None:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                self.connections[origin] = connection
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                break
            except (http.client.HTTPException, ConnectionError, BrokenPipeError):
                connection.close()
                self.connections.pop(origin, None)
                if attempt == 2:
                    raise
        for cookie in response.msg.get_all("Set-Cookie") or []:
            pair, _, attributes = cookie.partition(";")
            name, _, value = pair.strip().partition("=")
            attributes = attributes.lower()
            if "max-age=0" in attributes or "expires=thu, 01 jan 1970" in attributes:
                jar.pop(name, None)
            else:
                jar[name] = value
        return response.status, response.msg

    def forget(self, origin: str) -> None:
        self.jars.pop(origin, None)


@dataclass
class App:
    name: str
    url: str
    success_path: str
    process: subprocess.Popen | None = None


@dataclass
class VirtualUser:
    account: str
    browser: Browser = field(default_factory=Browser)


def login(app: App, user: VirtualUser) -> tuple[float, int, bool]:
    """One full login; returns (callback seconds, SQL queries, success)."""
    browser = user.browser
    browser.forget(urlsplit(app.url).netloc)  # a fresh i-Learn session, the LeerID one stays
    status, headers = browser.get(f"{app.url}/oidc/authenticate/")
    queries = int(headers.get("X-Bench-Queries", 0))
    url = headers.get("Location", "")
    if status != 302 or not url.startswith("http") or url.startswith(app.url):
        return 0.0, queries, False  # not sent to the OP: a failure page
    url += f"&login_hint={user.account}"
    for _ in range(10):
        status, headers = browser.get(url)
        if status not in (302, 303):
            return 0.0, queries, False
        url = urljoin(url, headers["Location"])
        if url.startswith(app.url):
            break
    started = time.perf_counter()
    status, headers = browser.get(url)
    elapsed = time.perf_counter() - started
    queries += int(headers.get("X-Bench-Queries", 0))
    location = headers.get("Location", "")
    ok = status == 302 and location in (app.success_path, app.url + app.success_path)
    return elapsed, queries, ok


# --- Processes and their CPU -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, CPU ticks incl. reaped children) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), sum(int(value) for value in fields[11:15])


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and all its descendants, reaped ones included."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            table[int(entry)] = stat
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
            todo.extend(child for child, (ppid, _) in table.items() if ppid == pid)
    return total / CLK_TCK


def postmaster_pid() -> int | None:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            stat = _stat(int(entry))
        except OSError:
            continue
        if comm == "postgres" and stat:
            parent = Path(f"/proc/{stat[0]}/comm")
            if not parent.exists() or parent.read_text().strip() != "postgres":
                return int(entry)
    return None


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    parts = urlsplit(url)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{process.args[0]} exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
            connection.request("GET", parts.path or "/")
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


# --- The database ------------------------------------------------------------------------------


def reset_tables(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "TRUNCATE pupils_identitysnapshot, pupils_accountalias, pupils_pupil,"
            " django_session, auth_user CASCADE"
        )


def fill_pupils(database_url: str, count: int, token: str, list_token: str) -> float:
    """Adds ``count`` pupils with user, alias and snapshot in SQL; returns seconds taken.

    Names and keys are one pre-encrypted token each (``list_token`` decrypts to ``[]``)."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as connection:
        for statement in (
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined) SELECT '!', false, 'bench-fill-' || g,"
            " '', '', '', false, true, now() FROM generate_series(1, %(n)s) g",
            "INSERT INTO pupils_pupil (public_id, pseudonym, kind, user_id, created_at,"
            " last_login_at) SELECT gen_random_uuid(), encode(sha256(('fill-' || u.id)::text"
            "::bytea), 'hex'), 'identified', u.id, now(), now() - random() * interval '700 days'"
            " FROM auth_user u WHERE u.username LIKE 'bench-fill-%%'",
            "INSERT INTO pupils_accountalias (pupil_id, pseudonym, created_at) SELECT p.id,"
            " encode(sha256(('alias-' || p.id)::text::bytea), 'hex'), now() FROM pupils_pupil p"
            " WHERE p.pseudonym NOT IN (SELECT pseudonym FROM pupils_accountalias)",
            "INSERT INTO pupils_identitysnapshot (pupil_id, family_name, given_name,"
            " leer_id_uuid, account_uuid, historiek_account_uuids, enrollments, granted_schools,"
            " login_at) SELECT p.id, %(token)s, %(token)s, %(token)s, %(token)s,"
            " %(list_token)s, '[\"012345\"]', '[\"012345\"]', p.last_login_at FROM pupils_pupil p"
            " WHERE NOT EXISTS (SELECT 1 FROM pupils_identitysnapshot s WHERE s.pupil_id = p.id)",
            "VACUUM ANALYZE auth_user",
            "VACUUM ANALYZE pupils_pupil",
            "VACUUM ANALYZE pupils_accountalias",
            "VACUUM ANALYZE pupils_identitysnapshot",
        ):
            connection.execute(statement, {"n": count, "token": token, "list_token": list_token})
    return time.monotonic() - started


# --- The run -----------------------------------------------------------------------------------


@dataclass
class Phase:
    app: str
    size: int
    concurrency: int
    logins: int = 0
    failures: int = 0
    seconds: float = 0.0
    callbacks: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)


def run_phase(
    app: App, users: list[VirtualUser], logins: int, op_pid: int, pg_pid: int | None
) -> Phase:
    remaining = [logins]
    lock = threading.Lock()
    phase = Phase(app=app.name, size=0, concurrency=len(users))

    def worker(user: VirtualUser) -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            elapsed, queries, ok = login(app, user)
            with lock:
                if ok:
                    phase.logins += 1
                    phase.callbacks.append(elapsed)
                    phase.queries.append(queries)
                else:
                    phase.failures += 1

    before = {
        "app": tree_cpu(app.process.pid),
        "op": tree_cpu(op_pid),
        "postgres": tree_cpu(pg_pid) if pg_pid else 0.0,
        "driver": time.process_time(),
    }
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    after = {
        "app": tree_cpu(app.process.pid),
        "op": tree_cpu(op_pid),
        "postgres": tree_cpu(pg_pid) if pg_pid else 0.0,
        "driver": time.process_time(),
    }
    phase.cpu = {name: after[name] - before[name] for name in before}
    return phase


def summarise(phases: list[Phase]) -> dict:
    logins = sum(p.logins for p in phases)
    seconds = sum(p.seconds for p in phases)
    callbacks = sorted(c for p in phases for c in p.callbacks)
    queries = [q for p in phases for q in p.queries]

    def pct(q: float) -> float:
        return callbacks[min(len(callbacks) - 1, int(q * len(callbacks)))] * 1000

    cpu = {name: sum(p.cpu[name] for p in phases) for name in phases[0].cpu}
    return {
        "logins": logins,
        "failures": sum(p.failures for p in phases),
        "logins_per_s": logins / seconds if seconds else 0.0,
        "p50_ms": pct(0.50) if callbacks else 0.0,
        "p95_ms": pct(0.95) if callbacks else 0.0,
        "queries_min": min(queries) if queries else 0,
        "queries_max": max(queries) if queries else 0,
        "queries_mean": statistics.fmean(queries) if queries else 0.0,
        "cpu_ms_per_login": {k: v * 1000 / logins if logins else 0.0 for k, v in cpu.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,1000000", help="pupils in the table, comma-separated")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--logins", type=int, default=300, help="logins per app per round")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per setting")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers per app")
    parser.add_argument("--quick", action="store_true", help="sizes 0,20000; c 1,4; 40 logins")
    parser.add_argument("--no-stock", action="store_true", help="only our app")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.concurrency, args.logins, args.rounds = "0,20000", "1,4", 40, 1
    sizes = [int(s) for s in args.sizes.split(",")]
    levels = [int(c) for c in args.concurrency.split(",")]
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h_oidc")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")

    if not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=OP_DIR, check=True)
    from cryptography.fernet import Fernet

    field_key = Fernet.generate_key().decode()
    token = Fernet(field_key.encode()).encrypt(b"Bench").decode()
    list_token = Fernet(field_key.encode()).encrypt(b"[]").decode()
    op_port, ours_port, stock_port = free_port(), free_port(), free_port()
    issuer = f"http://127.0.0.1:{op_port}"
    ours = App(OURS, f"http://127.0.0.1:{ours_port}", "/")
    stock = App(STOCK, f"http://127.0.0.1:{stock_port}", "/bench-home/")
    clients = [
        {
            "client_id": "bench-ours",
            "client_secret": "bench-ours-secret-0123456789",
            "redirect_uris": [f"{ours.url}/oidc/callback/"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
        {
            "client_id": "bench-stock",
            "client_secret": "bench-stock-secret-0123456789",
            "redirect_uris": [f"{stock.url}/oidc/callback/"],
            "token_endpoint_auth_method": "client_secret_post",
        },
    ]
    base_env = {
        **os.environ,
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PSEUDONYM_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": field_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOW_INSECURE_LOOPBACK_ISSUER": "true",
        "LEERID_ISSUER": issuer,
        "LEERID_CLIENT_ID": "bench-ours",
        "LEERID_CLIENT_SECRET": "bench-ours-secret-0123456789",
        "STOCK_CLIENT_ID": "bench-stock",
        "STOCK_CLIENT_SECRET": "bench-stock-secret-0123456789",
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    ours_env = {
        **base_env,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "bench.login_settings_ours",
    }
    stock_env = {**base_env, "DJANGO_SETTINGS_MODULE": "bench.login_settings_stock"}
    stock_env.pop("REDIS_URL", None)

    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=ours_env, check=True)

    users = [VirtualUser(account=f"bench-{i}") for i in range(max(levels))]
    processes: list[subprocess.Popen] = []
    results: dict = {"machine": machine(), "args": vars(args), "runs": {}}
    try:
        op_env = {
            **os.environ,
            "OP_PORT": str(op_port),
            "OP_CLIENTS": json.dumps(clients),
            "OP_PKCE_OPTIONAL": "bench-stock",
        }
        op = subprocess.Popen(
            ["node", "op.mjs"], cwd=OP_DIR, env=op_env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(op)
        wait_for(f"{issuer}/.well-known/openid-configuration", op)
        for i, user in enumerate(users):
            claims = {
                "given_name": f"Bench{i}",
                "family_name": "Voorbeeld",
                "ov_leerid_uuid": [f"00000000-0000-4000-8000-{i:012d}"],
                "ov_account_uuid": f"00000000-0000-4000-9000-{i:012d}",
                "ov_inschrijvingen": ["012345"],
            }
            connection = http.client.HTTPConnection("127.0.0.1", op_port, timeout=5)
            connection.request("PUT", f"/users/{user.account}", json.dumps(claims))
            assert connection.getresponse().status == 204
        pg_pid = postmaster_pid()
        apps = [ours] if args.no_stock else [ours, stock]
        for size in sizes:
            for app in apps:
                stop(app.process)
            reset_tables(database_url)
            # TRUNCATE ... CASCADE also empties tables that point at users (agreements): reseed.
            subprocess.run([PYTHON, "manage.py", "seed_demo"], cwd=ROOT, env=ours_env, check=True)
            if size:
                print(f"filling {size:,} pupils ...", flush=True)
                print(
                    f"  done in {fill_pupils(database_url, size, token, list_token):.0f} s",
                    flush=True,
                )
            for app in apps:
                env = ours_env if app is ours else stock_env
                port = urlsplit(app.url).port
                command = [GUNICORN, "ilearn_auth.wsgi:application", "--bind", f"127.0.0.1:{port}"]
                command += ["--workers", str(args.workers), "--chdir", str(ROOT)]
                command += ["--log-level", "warning"]
                app.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
                processes.append(app.process)
                wait_for(f"{app.url}/healthz", app.process)
                # Warm up: every pupil's first login (creates them), caches, worker imports.
                for _ in range(2):
                    for user in users:
                        login(app, user)
            for level in levels:
                phases: dict[str, list[Phase]] = {app.name: [] for app in apps}
                for round_ in range(args.rounds):
                    order = apps if round_ % 2 == 0 else list(reversed(apps))
                    for app in order:
                        phase = run_phase(app, users[:level], args.logins, op.pid, pg_pid)
                        phases[app.name].append(phase)
                for name, runs in phases.items():
                    summary = summarise(runs)
                    results["runs"][f"{size}/{level}/{name}"] = summary
                    print_row(size, level, name, summary)
    finally:
        for process in reversed(processes):
            stop(process)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"login-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"raw numbers: {path.relative_to(ROOT)}")


def print_row(size: int, level: int, name: str, s: dict) -> None:
    cpu = s["cpu_ms_per_login"]
    queries = (
        f"{s['queries_min']}"
        if s["queries_min"] == s["queries_max"]
        else f"{s['queries_min']}-{s['queries_max']}"
    )
    print(
        f"pupils={size:>9,} c={level:>2} {name:<5} {s['logins_per_s']:6.1f} logins/s"
        f"  callback p50 {s['p50_ms']:6.1f} ms p95 {s['p95_ms']:6.1f} ms  queries {queries:>5}"
        f"  cpu ms/login app {cpu['app']:5.1f} op {cpu['op']:5.1f} pg {cpu['postgres']:5.1f}"
        f" driver {cpu['driver']:4.1f}  failures {s['failures']}",
        flush=True,
    )


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    main()
