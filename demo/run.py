"""`make run`: the stand-in LeerID in the background, then the app; Ctrl-C stops both.

    python -m demo.run [--port 8000] [--leerid-port 9400]

A stand-in LeerID already answering on the port (say, left by an earlier run) is reused, so
`make run` can be repeated. The demo pupils are listed on http://127.0.0.1:8000/login/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from demo.leerid import provider_command

HOST = "127.0.0.1"


def leerid_answers(issuer: str) -> bool:
    """Whether an OpenID Provider with exactly this issuer answers discovery."""
    url = issuer + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback http
            return json.load(response).get("issuer") == issuer
    except (OSError, ValueError, urllib.error.URLError):
        return False


def start_leerid(port: int) -> subprocess.Popen | None:
    issuer = f"http://{HOST}:{port}"
    if leerid_answers(issuer):
        print(f"Stand-in LeerID already running at {issuer}; reusing it.", flush=True)
        return None
    # Its request log goes to a file (gitignored) so the app's log stays readable.
    log = open("demo-leerid.log", "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        provider_command(port, HOST), stdout=log, stderr=log, start_new_session=True
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"The stand-in LeerID did not start (is port {port} taken?).")
        if leerid_answers(issuer):
            print(f"Stand-in LeerID (oidc-provider-mock) at {issuer}", flush=True)
            return process
        time.sleep(0.2)
    process.terminate()
    sys.exit("The stand-in LeerID did not answer within 20 s.")


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def stop(process: subprocess.Popen | None) -> None:
    """Stops a child we started in its own session, with everything it started."""
    if process is None or process.poll() is not None:
        return
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--leerid-port", type=int, default=9400)
    args = parser.parse_args()
    env = {
        **os.environ,
        "DEBUG": "true",
        "LEERID_DEMO": "true",
        "LEERID_ISSUER": f"http://{HOST}:{args.leerid_port}",
    }
    leerid = start_leerid(args.leerid_port)
    print(f"i-Learn at http://{HOST}:{args.port}/login/ (Ctrl-C stops both)", flush=True)
    command = [sys.executable, "manage.py", "runserver", f"{HOST}:{args.port}"]
    # Each child gets its own session, so stopping one stops what it started (the autoreloader's
    # child too); Ctrl-C or a TERM here stops both, whatever the shell did with the signals.
    app = subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # Only signal here: waiting inside a handler would deadlock with app.wait() below.
        signal.signal(signum, lambda *_: _signal_group(app, signal.SIGTERM))
    try:
        app.wait()
    finally:
        stop(app)
        stop(leerid)


if __name__ == "__main__":
    main()
