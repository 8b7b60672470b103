"""gunicorn's access log, as configured by gunicorn.conf.py, carries no code or state."""

from __future__ import annotations

import datetime as dt
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

ROOT = Path(__file__).resolve().parents[2]


def test_it_logs_the_callback_without_its_query_string(caplog):
    """The access line for /oidc/callback/?code=...&state=... names the path only."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("access_log_format", settings["access_log_format"])
    config.set("accesslog", "-")
    logger = Logger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/oidc/callback/",
        "QUERY_STRING": "code=SECRET-CODE&state=SECRET-STATE",
        "RAW_URI": "/oidc/callback/?code=SECRET-CODE&state=SECRET-STATE",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://op.test/auth?state=SECRET-STATE",
        "REMOTE_ADDR": "192.0.2.1",
    }
    response = SimpleNamespace(
        status="302 Found", sent=0, headers=[("X-Request-ID", "abc123")], response_length=0
    )
    request = SimpleNamespace(headers=[], method="GET", path="/oidc/callback/")
    lines = []
    logger.access_log.handlers = [logging.Handler()]
    logger.access_log.handlers[0].emit = lambda record: lines.append(record.getMessage())
    logger.access(response, request, environ, dt.timedelta(milliseconds=12))
    [line] = lines
    assert "/oidc/callback/" in line
    assert "abc123" in line
    assert "SECRET" not in line
    assert "192.0.2.1" not in line
