"""No personal data or secrets in application logs or in Django's error reports."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from django.test import RequestFactory
from django.views.debug import get_exception_reporter_class

from privacy.logging import RedactingFilter, redact
from privacy.tests.helpers import PSEUDONYM

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
LEERID_KEY = "00000000-0000-4000-8000-00000000f1c7"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"id token {JWT} refused", JWT),
        ("GET /oidc/callback/?code=AbC123secret&state=st4te-value HTTP/1.1", "AbC123secret"),
        ("GET /oidc/callback/?code=AbC123secret&state=st4te-value HTTP/1.1", "st4te-value"),
        ("token endpoint body: grant_type=x&code_verifier=verif1er&code=c0de", "verif1er"),
        ("Authorization: Bearer tok3n.value-xyz", "tok3n.value-xyz"),
        (f"pupil {LEERID_KEY} not enrolled", LEERID_KEY),
        (f"pupil {LEERID_KEY.upper()} not enrolled", LEERID_KEY.upper()),
        # A key typed without hyphens (a search box, a query string) is a key all the same.
        (f"GET /admin/privacy/?q={LEERID_KEY.replace('-', '')} 302", LEERID_KEY.replace("-", "")),
        (f"key {LEERID_KEY.replace('-', '').upper()}.", LEERID_KEY.replace("-", "").upper()),
        ("claims {'given_name': 'Fictief', 'family_name': 'Testnaam'}", "Fictief"),
        ('claims {"family_name": "Testnaam", "ov_leerid_uuid": ["x"]}', "Testnaam"),
        ("redirect to /op/v1/logout?id_token_hint=hint-value&state=s", "hint-value"),
        ("Cookie: csrftoken=csrf-value; sessionid=session-value", "session-value"),
    ],
)
def test_it_redacts_tokens_codes_claims_and_keys(text, secret):
    """Known sensitive shapes are replaced; the rest of the line stays readable."""
    redacted = redact(text)
    assert secret not in redacted
    assert "[" in redacted


def test_it_keeps_pseudonyms_and_request_ids():
    """Pseudonyms (64 hex) and our request ids (32 hex, never a UUID's layout) are kept."""
    from ilearn_auth.middleware import new_request_id

    request_ids = [new_request_id() for _ in range(200)]
    text = f"pupil {PSEUDONYM} login granted request {' '.join(request_ids)}"
    assert redact(text) == text
    access_line = f'"GET /oidc/callback/ HTTP/1.1" 302 0 313ms {request_ids[0]}'
    assert redact(access_line) == access_line


def test_it_redacts_arguments_and_exception_text():
    """The filter works on the rendered message and on the traceback text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("privacy.tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("callback with code=%s for %s", "c0de-value", LEERID_KEY)
        try:
            raise ValueError(f"bad token {JWT}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "c0de-value" not in output
    assert LEERID_KEY not in output
    assert JWT not in output
    assert "callback with code=[redacted]" in output


def test_it_is_wired_into_the_console_handler():
    """settings.LOGGING puts the redacting filter on the console handler."""
    from django.conf import settings

    assert "redact" in settings.LOGGING["handlers"]["console"]["filters"]
    assert settings.LOGGING["filters"]["redact"]["()"] == "privacy.logging.RedactingFilter"
    root_filters = [f for h in logging.getLogger().handlers for f in h.filters]
    assert any(isinstance(f, RedactingFilter) for f in root_filters)


def _report(path: str) -> tuple[str, str]:
    request = RequestFactory().get(path)
    # A local the report would print; built so the source line shown in the report lacks it.
    code = "-".join(("c0de", "from", "local"))  # noqa: F841
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        reporter = get_exception_reporter_class(request)(request, *sys.exc_info())
    return reporter.get_traceback_text(), reporter.get_traceback_html()


@pytest.mark.parametrize("as_html", [False, True])
def test_it_scrubs_the_oidc_callback_query_from_error_reports(as_html):
    """The callback's code and state, and a local named code, stay out of 500 reports."""
    text, html = _report("/oidc/callback/?code=AbC123secret&state=st4te-value")
    report = html if as_html else text
    for secret in ("AbC123secret", "st4te-value", "c0de-from-local"):
        assert secret not in report
    assert "/oidc/callback/" in report


def test_it_redacts_sensitive_parameters_on_other_pages():
    """Elsewhere, known parameter names and key-shaped values are redacted too."""
    text, _ = _report(f"/admin/?q={LEERID_KEY}&state=abcdef123&page=2")
    assert LEERID_KEY not in text
    assert "abcdef123" not in text
