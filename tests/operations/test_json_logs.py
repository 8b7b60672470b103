"""LOG_FORMAT=json: one JSON object a line, with the request id, and still redacted."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

from ilearn_auth.json_logs import JsonFormatter
from ilearn_auth.middleware import RequestIdLogFilter
from privacy.logging import RedactingFilter

LEERID_KEY = "00000000-0000-4000-8000-00000000f1c7"


def _handler() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdLogFilter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.json_logs")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_it_writes_one_object_a_line_with_the_request_id():
    """Each line parses as JSON and names its level, logger, message and request id."""
    logger, stream = _handler()
    logger.info("pupil %s signed in", "abc")
    entry = json.loads(stream.getvalue().splitlines()[0])
    assert entry["message"] == "pupil abc signed in"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "tests.json_logs"
    assert entry["request_id"] == "-"


def test_it_keeps_redacting_messages_and_exceptions():
    """Claims, codes and LeerID keys are redacted in the JSON as in the plain line."""
    logger, stream = _handler()
    logger.info("claims {'given_name': 'Fictief'} for %s", LEERID_KEY)
    try:
        raise ValueError(f"callback ?code=s3cret-code for {LEERID_KEY}")
    except ValueError:
        logger.exception("callback failed")
    output = stream.getvalue()
    for line in output.splitlines():
        json.loads(line)
    assert "Fictief" not in output
    assert LEERID_KEY not in output
    assert "s3cret-code" not in output
    assert '"exception"' in output


def test_the_settings_switch_the_console_to_json():
    """LOG_FORMAT=json selects the JSON formatter for the console handler."""
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.LOGGING['handlers']['console']['formatter'])"
    )
    env = {"DJANGO_SETTINGS_MODULE": "ilearn_auth.settings_test", "LOG_FORMAT": "json"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "json"
