"""Keeping personal data and secrets out of application logs.

A filter cannot know a pupil's name, so it removes what has a shape instead: JWTs (ID and access
tokens), Bearer credentials, the values of ``code``, ``state``, ``id_token`` and similar query
or form parameters, the values of name and LeerID claims when a claims dict is logged, and every
UUID in both spellings, with hyphens and as 32 bare hex digits in a UUID's layout (a LeerID key
is a UUID, and staff copy keys without hyphens). Pseudonyms (64 hex) and our request ids (32 hex
with a 0 where a UUID has its version digit, ``ilearn_auth.middleware.new_request_id``) pass
unchanged. It works on the rendered message, so it covers ``%`` arguments, and on exception
text.
Loaded by ``LOGGING`` before the app registry exists: it must import no models.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_SENSITIVE_PARAMS = (
    "code|state|nonce|id_token|access_token|refresh_token|token|code_verifier|client_secret"
    "|client_assertion|session_state|password|id_token_hint|sessionid|csrftoken"
    "|csrfmiddlewaretoken"
)
SENSITIVE_PARAM_NAMES = frozenset(_SENSITIVE_PARAMS.split("|"))
_CLAIM_KEYS = "given_name|family_name|name|email|ov_[a-z_]+|leer_id_uuid|account_uuid"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Compact JWS/JWE: header and payload are base64url JSON, so they start with "eyJ".
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){1,3}"), "[jwt]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    # code=..., &state=... in URLs, query strings and form bodies.
    (
        re.compile(rf"(?i)(?<![A-Za-z0-9_])({_SENSITIVE_PARAMS})=[^&\s\"'#;,)]*"),
        r"\1=" + REDACTED,
    ),
    # 'code': '...', "given_name": "..." in logged dicts and JSON.
    (
        re.compile(
            rf"(?i)(['\"](?:{_SENSITIVE_PARAMS}|{_CLAIM_KEYS})['\"]\s*:\s*)"
            r"(\[[^\]]*\]|'[^']*'|\"[^\"]*\")"
        ),
        r"\1'" + REDACTED + "'",
    ),
    (
        re.compile(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
        "[uuid]",
    ),
    # The same without hyphens, in a UUID's layout (version 1-8, variant 8-b): our request ids
    # (version digit 0) stay readable; a 64-hex pseudonym has no word boundary after 32 digits.
    (re.compile(r"(?i)\b[0-9a-f]{12}[1-8][0-9a-f]{3}[89ab][0-9a-f]{15}\b"), "[uuid]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (with its arguments merged in) and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A malformed %-format: keep the template and the arguments' text, redacted.
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
