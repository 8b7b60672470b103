"""The product as shipped: a pupil signs in through gunicorn with DEBUG=false, pages arrive whole
(every stylesheet, script and image 200, cacheable, the stylesheet applied), beat and the worker
apply retention, /readyz is 200, /metrics answers, and no process wrote the pupil's data."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from demo.pupils import DEMO_PUPILS
from tests.production.conftest import SCHEDULE_SECONDS, Stack

pytestmark = [
    pytest.mark.production,
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]
PUPIL = next(pupil for pupil in DEMO_PUPILS if pupil.sub == "geidentificeerd")


def personal_data(pupil) -> list[str]:
    claims = pupil.leerid_claims()
    keys = [claims["ov_account_uuid"], *claims["ov_leerid_uuid"]]
    # Keys in both spellings: with hyphens, and as the 32 bare hex digits staff often copy.
    return [claims["given_name"], claims["family_name"], *keys, *(k.replace("-", "") for k in keys)]


def assets(html: str, base: str) -> list[str]:
    """Every stylesheet, script and image the page loads."""
    found = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    found += re.findall(r'<script[^>]+src="([^"]+)"', html)
    found += re.findall(r'<img[^>]+src="([^"]+)"', html)
    return [urljoin(base, url) for url in found]


def test_a_pupil_signs_in_and_every_page_arrives_whole(stack: Stack, browser):
    """Chromium signs the demo pupil in; its pages' assets load, cacheable, and style the page."""
    context = browser.new_context(ignore_https_errors=True, locale="nl-BE")
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if urlsplit(route.request.url).hostname == "127.0.0.1"
            else route.abort()
        ),
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    loaded = []
    page.on(
        "response",
        lambda r: (
            loaded.append(r)
            if r.request.resource_type in ("stylesheet", "script", "image")
            else None
        ),
    )
    try:
        page.goto(f"{stack.url}/login/")
        page.get_by_role("button", name="Aanmelden met LeerID").click()
        page.fill("input[name=sub]", PUPIL.sub)
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{stack.url}/")
        assert page.locator("h1").inner_text() == "Hallo Demo Amira!"
        # The stylesheet is applied, not only fetched: the header has the site's colour.
        header = page.locator(".site-header")
        assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 79, 108)"
    finally:
        context.close()
    ours = [r for r in loaded if r.url.startswith(stack.url)]
    assert ours, "the pages loaded no stylesheet"
    for response in ours:
        assert response.status == 200, response.url
        assert "max-age=" in response.headers.get("cache-control", ""), response.url


def test_static_files_are_hashed_compressed_and_cached_for_a_year(stack: Stack):
    """The login page and the admin's login page: each asset 200, hashed, immutable, gzip too."""
    urls = []
    for path in ("/login/", "/admin/login/"):
        page = requests.get(f"{stack.url}{path}", verify=False, timeout=10)
        assert page.status_code == 200
        urls += assets(page.text, page.url)
    assert any("/static/ilearn_auth/site." in url for url in urls)
    assert any("/static/admin/css/" in url for url in urls)
    for url in urls:
        response = requests.get(url, verify=False, timeout=10, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200, url
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", urlsplit(url).path), f"not hashed: {url}"
        assert "max-age=315360000" in response.headers["Cache-Control"], url
        assert "immutable" in response.headers["Cache-Control"], url
    css = next(url for url in urls if "/site." in url)
    gzipped = requests.get(css, verify=False, timeout=10, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers.get("Content-Encoding") == "gzip"


def test_beat_sends_the_retention_tasks_and_the_worker_runs_them(stack: Stack):
    """On a short schedule, every rule gets a successful RetentionRun from a task."""
    deadline = time.monotonic() + 6 * SCHEDULE_SECONDS + 20
    done: set[str] = set()
    while time.monotonic() < deadline and len(done) < 3:
        rows = stack.sql(
            "SELECT counts FROM retention_retentionrun "
            "WHERE status = 'success' AND trigger = 'task'"
        )
        done = {rule for (counts,) in rows for rule in counts}
        time.sleep(1)
    assert done == {"accounts", "snapshots", "privacy_log"}, stack.output()[-3000:]


def test_readyz_and_metrics_answer(stack: Stack):
    """/readyz is 200 with every part ok; /metrics (listed address) counts the login."""
    ready = requests.get(f"{stack.url}/readyz", verify=False, timeout=10)
    assert ready.status_code == 200, ready.text
    metrics = requests.get(f"{stack.url}/metrics", verify=False, timeout=10)
    assert metrics.status_code == 200
    assert "ilearn_privacy_log_writes_total" in metrics.text
    # Added up over gunicorn's workers (multiprocess mode), whichever one answers.
    assert 'ilearn_logins_total{outcome="granted",reason="none"} 1.0' in metrics.text
    assert 'ilearn_op_request_seconds_count{endpoint="token"}' in metrics.text
    assert 'ilearn_retention_rows{rule="snapshots"}' in metrics.text


def test_no_process_wrote_the_pupils_personal_data(stack: Stack):
    """Names and LeerID keys of the pupil who signed in are in no process's output; gunicorn's
    and the application's lines are JSON objects, the callback's access line with its id."""
    output = stack.output()
    for value in personal_data(PUPIL):
        assert value not in output, f"{value!r} in the processes' output"
    entries = [
        json.loads(line)
        for line in stack.log_path("web").read_text().splitlines()
        if line.startswith("{")
    ]
    assert {"gunicorn.access", "gunicorn.error"} <= {entry["logger"] for entry in entries}
    callbacks = [
        entry["message"]
        for entry in entries
        if entry["logger"] == "gunicorn.access" and "GET /oidc/callback/ " in entry["message"]
    ]
    assert callbacks
    assert all(re.search(r" 302 .* [0-9a-f]{32}$", message) for message in callbacks), callbacks
