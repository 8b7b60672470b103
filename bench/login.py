"""Full LeerID logins through a real OpenID Provider, against gunicorn and PostgreSQL.

    .venv/bin/python bench/login.py                 # the full run: 0 and 1,000,000 pupils
    .venv/bin/python bench/login.py --quick         # a small run to try it out (~2 minutes)
    .venv/bin/python bench/login.py --sizes 0 --concurrency 4 --logins 200 --rounds 3
    .venv/bin/python bench/login.py --sizes 0 --concurrency 4 --profile docs/profiles
    .venv/bin/python bench/login.py --sizes 1000000 --peak 300   # the morning peak, ours only

What runs: panva's oidc-provider (tests/op, `npm ci` on first use) as LeerID; our app
(`bench.login_settings_ours`: the production settings) and, interleaved in the same run, two
references, each under gunicorn (sync workers):

- ``stock``: mozilla-django-oidc as its documentation configures it for RS256, users keyed on
  ``sub``, Django's defaults (a new database connection per request, sessions in the database);
- ``best``: the same stock app configured as a careful team would (``CONN_MAX_AGE=60``,
  ``cached_db`` sessions on Django's Redis cache): ``bench.login_settings_stock_best``.

PostgreSQL: by default the script starts its OWN throwaway server (``--postgres own``: initdb in
a temporary folder, a free port, removed afterwards), so the PostgreSQL CPU it reports is this
benchmark's alone; ``--postgres shared`` uses DATABASE_URL instead (default
postgres://postgres@127.0.0.1:5432/bench_login; its pupil and user tables are EMPTIED), whose
server CPU then includes whatever else runs on it. Each virtual user is one pupil with a LeerID
session at the OP (SSO, as in a school day) and a fresh i-Learn session for every login; a
login is GET /oidc/authenticate/, the OP's redirects, and the callback. The driver is raw
http.client with manual cookies and redirects.

Printed per table size, concurrency and app: logins/s; p50/p95 of the callback; SQL queries per
login (authenticate + callback, counted in the app by a middleware); CPU per login of the app
(gunicorn master and workers), the OP, PostgreSQL and this driver; RSS per gunicorn worker; then
our ratio to each reference, from the same interleaved rounds. ``--profile DIR`` then runs extra
rounds of ours and ``best`` under py-spy (CPU samples only, idle time left out) and writes a
flame graph (SVG), the collapsed stacks and the table of ``bench/profile_table.py``. ``--peak
SECONDS`` runs only ours at c=16 for that long and prints p95 and RSS per worker at the start
and end. Raw numbers go to bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench.profile_table when run as a script
OP_DIR = ROOT / "tests" / "op"
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
OURS, STOCK, BEST, BEFORE = "ours", "stock", "best", "before"
PY_SPY = str(Path(PYTHON).with_name("py-spy"))


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
    root: Path = ROOT  # the checkout gunicorn runs the app from


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


def _stat(pid: int, fields_: slice = slice(11, 15)) -> tuple[int, int] | None:
    """(ppid, CPU ticks incl. reaped children) of a live process; ``fields_``: system only."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), sum(int(value) for value in fields[fields_])


SYSTEM = slice(12, 15, 2)  # stime, cstime


def tree_cpu(root: int, fields_: slice = slice(11, 15)) -> float:
    """CPU seconds of a process and all its descendants, reaped ones included."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry), fields_)) is not None:
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


def worker_rss_mib(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), in MiB."""
    sizes = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None and stat[0] == master:
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            kib = next(int(line.split()[1]) for line in status.splitlines() if line[:6] == "VmRSS:")
            sizes.append(kib / 1024)
    return sorted(sizes)


# --- PostgreSQL of our own --------------------------------------------------------------------

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def start_own_postgres() -> tuple[subprocess.Popen, str, Path]:
    """A throwaway PostgreSQL (default configuration) on a free port: its CPU is ours alone."""
    folder = Path(tempfile.mkdtemp(prefix="bench_login_pg_"))
    os.chmod(folder, 0o777)  # noqa: S103 - a throwaway folder the postgres user writes in
    data = folder / "data"
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
         "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    port = free_port()
    process = subprocess.Popen(
        [*as_postgres, str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port),
         "-k", str(folder), "-c", "listen_addresses=127.0.0.1"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import psycopg

    for _ in range(100):
        try:
            with psycopg.connect(
                f"postgres://postgres@127.0.0.1:{port}/postgres", autocommit=True
            ) as c:
                c.execute("CREATE DATABASE bench_login")
            break
        except psycopg.OperationalError:
            time.sleep(0.1)
    return process, f"postgres://postgres@127.0.0.1:{port}/bench_login", folder


def stop_own_postgres(process: subprocess.Popen, folder: Path) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)  # fast shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)


# --- The database ------------------------------------------------------------------------------


def reset_tables(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "TRUNCATE pupils_identitysnapshot, pupils_accountalias, pupils_pupil,"
            " django_session, auth_user CASCADE"
        )


def fill_pupils(database_url: str, count: int, token: str) -> float:
    """Adds ``count`` pupils with user, alias and snapshot in SQL; returns seconds taken."""
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
            # NOT EXISTS: a NOT IN over a million rows outgrows work_mem and goes quadratic.
            " WHERE NOT EXISTS (SELECT 1 FROM pupils_accountalias a WHERE a.pupil_id = p.id)",
            "INSERT INTO pupils_identitysnapshot (pupil_id, family_name, given_name,"
            " leer_id_uuid, account_uuid, historiek_account_uuids, enrollments, granted_schools,"
            " login_at) SELECT p.id, %(token)s, %(token)s, gen_random_uuid(), gen_random_uuid(),"
            " '[]', '[\"012345\"]', '[\"012345\"]', p.last_login_at FROM pupils_pupil p"
            " WHERE NOT EXISTS (SELECT 1 FROM pupils_identitysnapshot s WHERE s.pupil_id = p.id)",
            "VACUUM ANALYZE auth_user",
            "VACUUM ANALYZE pupils_pupil",
            "VACUUM ANALYZE pupils_accountalias",
            "VACUUM ANALYZE pupils_identitysnapshot",
        ):
            connection.execute(statement, {"n": count, "token": token})
    return time.monotonic() - started


# --- The run -----------------------------------------------------------------------------------


@dataclass
class Phase:
    app: str
    concurrency: int
    logins: int = 0
    failures: int = 0
    seconds: float = 0.0
    callbacks: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    finished: list[tuple[float, float, bool]] = field(default_factory=list)  # (at, callback, ok)
    cpu: dict[str, float] = field(default_factory=dict)
    rss: list[float] = field(default_factory=list)


@dataclass
class Meters:
    """CPU seconds so far of each process tree the report names."""

    op_pid: int
    pg_pid: int | None

    def read(self, app: App) -> dict[str, float]:
        return {
            "app": tree_cpu(app.process.pid),
            "app_kernel": tree_cpu(app.process.pid, SYSTEM),
            "op": tree_cpu(self.op_pid),
            "postgres": tree_cpu(self.pg_pid) if self.pg_pid else 0.0,
            "driver": time.process_time(),
        }


def run_phase(
    app: App, users: list[VirtualUser], meters: Meters, *, logins: int = 0, seconds: float = 0
) -> Phase:
    """``logins`` logins in all (or as many as fit in ``seconds``), one thread per user."""
    remaining = [logins]
    lock = threading.Lock()
    phase = Phase(app=app.name, concurrency=len(users))
    started = time.perf_counter()
    deadline = started + seconds

    def worker(user: VirtualUser) -> None:
        while True:
            with lock:
                if (seconds and time.perf_counter() >= deadline) or (
                    not seconds and remaining[0] <= 0
                ):
                    return
                remaining[0] -= 1
            elapsed, queries, ok = login(app, user)
            with lock:
                phase.finished.append((time.perf_counter() - started, elapsed, ok))
                if ok:
                    phase.logins += 1
                    phase.callbacks.append(elapsed)
                    phase.queries.append(queries)
                else:
                    phase.failures += 1

    before = meters.read(app)
    threads = [threading.Thread(target=worker, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    after = meters.read(app)
    phase.cpu = {name: after[name] - before[name] for name in before}
    phase.rss = worker_rss_mib(app.process.pid)
    return phase


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def summarise(phases: list[Phase]) -> dict:
    logins = sum(p.logins for p in phases)
    seconds = sum(p.seconds for p in phases)
    callbacks = [c for p in phases for c in p.callbacks]
    queries = [q for p in phases for q in p.queries]
    cpu = {name: sum(p.cpu[name] for p in phases) for name in phases[0].cpu}
    return {
        "logins": logins,
        "failures": sum(p.failures for p in phases),
        "logins_per_s": logins / seconds if seconds else 0.0,
        "p50_ms": percentile(callbacks, 0.50),
        "p95_ms": percentile(callbacks, 0.95),
        "queries_min": min(queries) if queries else 0,
        "queries_max": max(queries) if queries else 0,
        "queries_mean": statistics.fmean(queries) if queries else 0.0,
        "cpu_ms_per_login": {k: v * 1000 / logins if logins else 0.0 for k, v in cpu.items()},
        "rss_mib_per_worker": phases[-1].rss,
        "rounds": [
            {"logins_per_s": p.logins / p.seconds, "app_cpu_ms": p.cpu["app"] * 1000 / p.logins}
            for p in phases
            if p.logins
        ],
    }


def start_app(app: App, env: dict[str, str], workers: int, users: list[VirtualUser]) -> None:
    port = urlsplit(app.url).port
    command = [GUNICORN, "ilearn_auth.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--chdir", str(app.root), "--log-level", "warning"]
    app.process = subprocess.Popen(command, cwd=app.root, env=env, start_new_session=True)
    wait_for(f"{app.url}/healthz", app.process)
    # Warm up: every pupil's first login (creates them), caches, worker imports.
    for _ in range(2):
        for user in users:
            login(app, user)


def profile(
    app: App, users: list[VirtualUser], meters: Meters, logins: int, out: Path, tag: str
) -> dict:
    """Two rounds under py-spy (all workers, CPU samples only): collapsed stacks, then SVG.

    ``--gil`` keeps only samples of a thread holding the GIL: our workers are single-threaded,
    so that is Python running (or preempted while running). Without it, py-spy also counts a
    thread that a socket read or ``poll`` just woke and that waits for a core, which on a busy
    2-core machine made a third of the samples sit in ``poll`` and ``recv``.
    """
    from bench.profile_table import read_stacks, render, table

    out.mkdir(parents=True, exist_ok=True)
    result: dict = {}
    for kind in ("raw", "flamegraph"):
        path = out / f"login-{tag}-{app.name}.{'txt' if kind == 'raw' else 'svg'}"
        spy = subprocess.Popen(
            [PY_SPY, "record", "--pid", str(app.process.pid), "--subprocesses", "--nonblocking",
             "--rate", "250", "--gil", "--format", kind, "--output", str(path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.5)  # py-spy attaches to the master and finds the workers
        phase = run_phase(app, users, meters, logins=logins)
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
        if kind == "raw":
            cpu_ms = phase.cpu["app"] * 1000 / max(phase.logins, 1)
            parts = table(read_stacks(path))
            result = {"cpu_ms_per_login": cpu_ms, "parts": parts, "stacks": str(path)}
            print(f"profile of {app.name} ({tag}), app CPU {cpu_ms:.1f} ms/login, {path}:")
            print(render(parts, cpu_ms), flush=True)
    return result


def peak(app: App, users: list[VirtualUser], meters: Meters, seconds: float, window: float) -> dict:
    """The morning peak: ours alone for ``seconds``; p95 and RSS per worker, start and end."""
    rss_start = worker_rss_mib(app.process.pid)
    phase = run_phase(app, users, meters, seconds=seconds)
    rss_end = worker_rss_mib(app.process.pid)

    def window_of(start: float, end: float) -> dict:
        done = [(t, e, ok) for t, e, ok in phase.finished if start <= t < end]
        good = [e for _, e, ok in done if ok]
        return {
            "logins_per_s": len(good) / (end - start),
            "p95_ms": percentile(good, 0.95),
            "failures": sum(1 for *_, ok in done if not ok),
        }

    summary = summarise([phase])
    summary |= {
        "seconds": phase.seconds,
        "timeline": [
            window_of(start, min(start + window, phase.seconds))
            for start in range(0, int(phase.seconds), int(window))
            if min(start + window, phase.seconds) > start
        ],
        "start": window_of(0, window),
        "end": window_of(phase.seconds - window, phase.seconds),
        "rss_mib_start": rss_start,
        "rss_mib_end": rss_end,
    }
    cpu = summary["cpu_ms_per_login"]["app"]
    print(
        f"peak {phase.seconds:.0f} s c={len(users)}: {phase.logins} logins,"
        f" {phase.failures} failed, {summary['logins_per_s']:.1f}/s, app CPU {cpu:.1f} ms/login,"
        f" p95 {summary['p95_ms']:.0f} ms,"
        f" queries {summary['queries_min']}-{summary['queries_max']}",
        flush=True,
    )
    timeline = ", ".join(f"{w['logins_per_s']:.0f}" for w in summary["timeline"])
    print(f"  logins/s per {window:.0f} s: {timeline}", flush=True)
    for name in ("start", "end"):
        w = summary[name]
        rss = " ".join(f"{r:.0f}" for r in summary[f"rss_mib_{name}"])
        print(
            f"  {name:<5} ({window:.0f} s): {w['logins_per_s']:.1f} logins/s,"
            f" p95 {w['p95_ms']:.0f} ms, failures {w['failures']}; RSS per worker {rss} MiB",
            flush=True,
        )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,1000000", help="pupils in the table, comma-separated")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--logins", type=int, default=300, help="logins per app per round")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per setting")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers per app")
    parser.add_argument("--quick", action="store_true", help="sizes 0,20000; c 1,4; 40 logins")
    parser.add_argument("--stock", default="stock,best", help="references: stock,best or none")
    parser.add_argument("--postgres", choices=("own", "shared"), default="own")
    parser.add_argument("--profile", type=Path, help="folder for py-spy profiles (at c=4)")
    parser.add_argument("--profile-logins", type=int, default=400)
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout of this project (say, main before a change): run as app 'before'"
        " in the same interleaved rounds, with our settings",
    )
    parser.add_argument("--peak", type=float, default=0, help="seconds of the morning peak (c=16)")
    parser.add_argument("--peak-window", type=float, default=30)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.concurrency, args.logins, args.rounds = "0,20000", "1,4", 40, 1
    sizes = [int(s) for s in args.sizes.split(",")]
    levels = [16] if args.peak else [int(c) for c in args.concurrency.split(",")]
    references = [] if args.peak or args.stock == "none" else args.stock.split(",")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")

    if not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=OP_DIR, check=True)
    from cryptography.fernet import Fernet

    own_pg = None
    if args.postgres == "own":
        own_pg = start_own_postgres()
        database_url = own_pg[1]
    else:
        database_url = os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_login"
        )
    field_key = Fernet.generate_key().decode()
    token = Fernet(field_key.encode()).encrypt(b"Bench").decode()
    op_port = free_port()
    issuer = f"http://127.0.0.1:{op_port}"
    ours = App(OURS, f"http://127.0.0.1:{free_port()}", "/")
    stock = App(STOCK, f"http://127.0.0.1:{free_port()}", "/bench-home/")
    best = App(BEST, f"http://127.0.0.1:{free_port()}", "/bench-home/")
    apps = [ours] + [app for app in (stock, best) if app.name in references]
    if args.before and not args.peak:
        before = App(BEFORE, f"http://127.0.0.1:{free_port()}", "/", root=args.before.resolve())
        apps.insert(1, before)
        references = [BEFORE, *references]
    clients = [
        {
            "client_id": "bench-ours",
            "client_secret": "bench-ours-secret-0123456789",
            "redirect_uris": [
                f"{app.url}/oidc/callback/" for app in apps if app.name in (OURS, BEFORE)
            ],
            "token_endpoint_auth_method": "client_secret_basic",
        },
        {
            "client_id": "bench-stock",
            "client_secret": "bench-stock-secret-0123456789",
            "redirect_uris": [f"{stock.url}/oidc/callback/", f"{best.url}/oidc/callback/"],
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
        "REDIS_URL": redis_url,
    }
    envs = {
        OURS: {**base_env, "DJANGO_SETTINGS_MODULE": "bench.login_settings_ours"},
        STOCK: {
            **{k: v for k, v in base_env.items() if k != "REDIS_URL"},
            "DJANGO_SETTINGS_MODULE": "bench.login_settings_stock",
        },
        BEST: {**base_env, "DJANGO_SETTINGS_MODULE": "bench.login_settings_stock_best"},
    }
    envs[BEFORE] = envs[OURS]
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=envs[OURS], check=True)

    users = [VirtualUser(account=f"bench-{i}") for i in range(max(levels))]
    op = None
    results: dict = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}}
    results |= {"runs": {}, "ratios": {}, "profiles": {}}
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
        meters = Meters(op.pid, own_pg[0].pid if own_pg else postmaster_pid())
        for size in sizes:
            for app in apps:
                stop(app.process)
            reset_tables(database_url)
            # TRUNCATE ... CASCADE also empties tables that point at users (agreements): reseed.
            subprocess.run([PYTHON, "manage.py", "seed_demo"], cwd=ROOT, env=envs[OURS], check=True)
            if size:
                print(f"filling {size:,} pupils ...", flush=True)
                print(f"  done in {fill_pupils(database_url, size, token):.0f} s", flush=True)
            for app in apps:
                start_app(app, envs[app.name], args.workers, users)
            if args.peak:
                results["peak"] = peak(ours, users, meters, args.peak, args.peak_window)
                continue
            for level in levels:
                phases: dict[str, list[Phase]] = {app.name: [] for app in apps}
                for round_ in range(args.rounds):
                    order = apps if round_ % 2 == 0 else list(reversed(apps))
                    for app in order:
                        phase = run_phase(app, users[:level], meters, logins=args.logins)
                        phases[app.name].append(phase)
                summaries = {name: summarise(runs) for name, runs in phases.items()}
                for name, summary in summaries.items():
                    results["runs"][f"{size}/{level}/{name}"] = summary
                    print_row(size, level, name, summary)
                for name in references:
                    ratio = ratios(summaries[OURS], summaries[name])
                    results["ratios"][f"{size}/{level}/{name}"] = ratio
                    print(
                        f"pupils={size:>9,} c={level:>2} ours/{name:<6} logins/s"
                        f" {ratio['logins_per_s']:.2f}x, app CPU per login"
                        f" {ratio['app_cpu']:.2f}x, p95 {ratio['p95']:.2f}x",
                        flush=True,
                    )
            if args.profile and size == sizes[0]:
                for app in [ours] + [a for a in apps if a.name in (BEFORE, BEST)]:
                    tag = f"{size}-c4"
                    results["profiles"][f"{tag}/{app.name}"] = profile(
                        app, users[:4], meters, args.profile_logins, args.profile, tag
                    )
    finally:
        for app in apps:
            stop(app.process)
        stop(op)
        if own_pg:
            stop_own_postgres(*own_pg[::2])
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"login-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"raw numbers: {path.relative_to(ROOT)}")


def ratios(ours: dict, reference: dict) -> dict[str, float]:
    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    return {
        "logins_per_s": ratio(ours["logins_per_s"], reference["logins_per_s"]),
        "app_cpu": ratio(ours["cpu_ms_per_login"]["app"], reference["cpu_ms_per_login"]["app"]),
        "p95": ratio(ours["p95_ms"], reference["p95_ms"]),
    }


def print_row(size: int, level: int, name: str, s: dict) -> None:
    cpu = s["cpu_ms_per_login"]
    queries = (
        f"{s['queries_min']}"
        if s["queries_min"] == s["queries_max"]
        else f"{s['queries_min']}-{s['queries_max']}"
    )
    rss = "/".join(f"{r:.0f}" for r in s["rss_mib_per_worker"])
    print(
        f"pupils={size:>9,} c={level:>2} {name:<6} {s['logins_per_s']:6.1f} logins/s"
        f"  callback p50 {s['p50_ms']:6.1f} ms p95 {s['p95_ms']:6.1f} ms  queries {queries:>5}"
        f"  cpu ms/login app {cpu['app']:5.1f} (kernel {cpu['app_kernel']:4.1f})"
        f" op {cpu['op']:5.1f} pg {cpu['postgres']:5.1f}"
        f" driver {cpu['driver']:4.1f}  RSS/worker {rss} MiB  failures {s['failures']}",
        flush=True,
    )


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": sys.version.split()[0],
        "load_average_at_end": os.getloadavg(),
    }


if __name__ == "__main__":
    main()
