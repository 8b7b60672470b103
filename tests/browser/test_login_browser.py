"""A pupil in a real Chromium on a 360 px phone: login page -> LeerID -> home -> logout."""

from __future__ import annotations

import pytest

from demo.pupils import DEMO_PUPILS
from tests.integration.conftest import use_op

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def demo(live_server, mock_op, settings, transactional_db):
    from schools.demo import seed_demo_schools

    seed_demo_schools()
    use_op(settings, mock_op)
    settings.LEERID_DEMO = True
    for pupil in DEMO_PUPILS:
        mock_op.set_user(pupil.sub, pupil.leerid_claims())
    return live_server


def _sign_in_at_stand_in(page, sub: str) -> None:
    page.get_by_role("button", name="Aanmelden met LeerID").click()
    page.wait_for_url("**/oauth2/authorize**")
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()


def _fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_it_signs_in_and_out_in_a_browser(demo, page, screenshots):
    """Login page -> stand-in LeerID -> home with greeting -> logout at LeerID -> signed out."""
    page.goto(f"{demo.url}/login/")
    assert page.get_attribute("html", "lang") == "nl"
    assert page.locator("main").count() == 1
    assert _fits_the_phone(page)
    page.screenshot(path=screenshots / "login.png", full_page=True)

    _sign_in_at_stand_in(page, "geidentificeerd")
    page.wait_for_url(f"{demo.url}/")
    assert page.locator("h1").inner_text() == "Hallo Demo Amira!"
    assert _fits_the_phone(page)
    page.screenshot(path=screenshots / "home.png", full_page=True)

    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url("**/oauth2/end_session**")
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{demo.url}/login/**")
    assert "Je bent afgemeld" in page.locator("main").inner_text()
    page.goto(f"{demo.url}/api/me")
    assert "not_authenticated" in page.content()


def test_it_shows_the_denied_page_in_a_browser(demo, page, screenshots):
    """A pupil whose school has no agreement reads why, and can switch to English."""
    page.goto(f"{demo.url}/login/")
    _sign_in_at_stand_in(page, "school-zonder-afspraak")
    page.wait_for_url(f"{demo.url}/login/failed/")
    assert page.locator("h1").inner_text() == "Je school werkt (nog) niet met i-Learn"
    assert _fits_the_phone(page)
    page.screenshot(path=screenshots / "denied.png", full_page=True)
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "Your school does not work with i-Learn (yet)"
    page.screenshot(path=screenshots / "denied-en.png", full_page=True)


def test_it_works_by_keyboard(demo, page):
    """Tab reaches the skip link first, then the language switch, then the login button."""
    page.goto(f"{demo.url}/login/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Naar de inhoud"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Aanmelden met LeerID"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.wait_for_url("**/oauth2/authorize**")
