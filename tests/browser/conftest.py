"""Headless Debian Chromium through playwright; nothing leaves loopback.

Never `playwright install`: the browser is the system's /usr/bin/chromium. Screenshots go to
``BROWSER_SCREENSHOTS`` (a folder) when set, else to the test's tmp_path.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.pupil_tab import Tab
from tests.integration.conftest import (
    mock_op,  # noqa: F401 - the stand-in LeerID fixture
    use_op,
)

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


@pytest.fixture
def site(live_server, mock_op, settings, transactional_db):  # noqa: F811 - mock_op: imported
    """The demo schools and pupils, served by the live server and the stand-in LeerID."""
    from demo.pupils import DEMO_PUPILS
    from schools.demo import seed_demo_schools

    seed_demo_schools()
    use_op(settings, mock_op)
    settings.LEERID_DEMO = True
    settings.DPO_CONTACT_EMAIL = "dpo@example.org"
    for pupil in DEMO_PUPILS:
        mock_op.set_user(pupil.sub, pupil.leerid_claims())
    return live_server.url


@pytest.fixture
def tab(browser, site, screenshots):
    """``tab()`` opens a fresh device (a ``Tab``: tests/browser/pupil_tab.py) on ``site``."""
    opened = []

    def open_tab() -> Tab:
        opened.append(Tab(browser, site, screenshots))
        return opened[-1]

    yield open_tab
    for each in opened:
        each.context.close()
