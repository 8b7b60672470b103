"""gunicorn reads this file from its working directory (the image's /app, the project root).

The image's command is only ``gunicorn ilearn_auth.wsgi:application``: the rest is here, so
Compose, the image and the production smoke test (tests/production/) run the same thing.
``GUNICORN_CMD_ARGS`` overrides any of it (the smoke test binds elsewhere and adds TLS).

The access log leaves out the query string and the referrer: the LeerID callback's query holds
`code` and `state`, which must not reach a log (nor may pages a pupil came from). It keeps the
method, path, status, size, duration and our request id, to find the application's log lines.
"""

import os
import shutil
import tempfile

# Web requests give up on a query after 5 s, so a slow database ends on the 503 page quickly;
# workers and commands, which gunicorn does not start, keep no limit (see settings).
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "5000")

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Two to three sync workers per core (docs/operations.md); WEB_CONCURRENCY sets the number.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
if os.environ.get("LOG_FORMAT") == "json":
    # The same line as the message of a JSON object (escaped by json.dumps, so a path holding a
    # quote cannot break it), redacted like the application's lines.
    _handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["redact"],
        "stream": "ext://sys.stdout",
    }
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "privacy.logging.RedactingFilter"}},
        "formatters": {"json": {"()": "ilearn_auth.json_logs.JsonFormatter"}},
        "handlers": {"json": _handler},
        # gunicorn merges this over its defaults, whose root logger names its own handler.
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {
            "gunicorn.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "gunicorn.error": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }

# Prometheus counters are per process: the workers share them through files in this folder,
# which /metrics reads (ilearn_auth/metrics.py). Emptied at start, a dead worker's files merged.
_metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="ilearn-metrics-")
)


def on_starting(server):
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
