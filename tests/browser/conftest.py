"""Headless Debian Chromium through playwright; nothing leaves loopback.

Never `playwright install`: the browser is the system's /usr/bin/chromium. Screenshots go to
``BROWSER_SCREENSHOTS`` (a folder) when set, else to the test's tmp_path.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.conftest import mock_op  # noqa: F401 - the stand-in LeerID fixture

# The session's one Chromium (``browser``) is in tests/conftest.py, shared with tests/production.
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def page(browser):
    """A fresh phone-sized context (360 px wide) that aborts every non-loopback request."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="nl-BE")

    def only_loopback(route):
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_loopback)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
