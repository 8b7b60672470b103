"""The whole demo in Debian's Chromium, every pupil page checked the way a school device sees it.

Playwright drives the stand-in LeerID of `make run` (oidc-provider-mock with the demo pupils)
against Django's live server: each demo pupil, the merge, the refusals, "mijn gegevens" and
its download, logout at the stand-in, the error pages and the privacy notice. On every page of
ours, in Dutch and in English, at 360 px and at 1280 px:

- axe-core (tests/browser/axe.py) finds no serious or critical violation;
- the Content-Security-Policy header is sent, the browser reports no violation of it, the
  stylesheet applies, and every resource came from this origin;
- nothing scrolls sideways; a screenshot goes to ``BROWSER_SCREENSHOTS`` (or the tmp folder).

Keyboard use (skip link first, logical order, visible focus) and 200 % text have their own tests.
"""

from __future__ import annotations

import json
import socket
from importlib import import_module
from urllib.parse import urlsplit

import pytest
from django.test import Client

from demo.pupils import DEMO_PUPILS
from ilearn_auth import oidc_config
from ilearn_auth.failures import FAILURE_SESSION_KEY, MESSAGES
from tests.browser.axe import blocking, violations
from tests.integration.conftest import use_op

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WIDTHS = (360, 1280)
LANGUAGES = ("nl", "en")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The header's colour in site.css: proof that the stylesheet loaded under the policy.
HEADER_BACKGROUND = "rgb(11, 79, 108)"


@pytest.fixture
def site(live_server, mock_op, settings, transactional_db):
    from schools.demo import seed_demo_schools

    seed_demo_schools()
    use_op(settings, mock_op)
    settings.LEERID_DEMO = True
    settings.DPO_CONTACT_EMAIL = "dpo@example.org"
    for pupil in DEMO_PUPILS:
        mock_op.set_user(pupil.sub, pupil.leerid_claims())
    return live_server.url


class Tab:
    """One browser context (a fresh device) and its page, with what the checks need to see."""

    def __init__(self, browser, site: str, screenshots) -> None:
        self.site = site
        self.screenshots = screenshots
        self.context = browser.new_context(viewport={"width": 360, "height": 800}, locale="nl-BE")
        self.context.route("**/*", self._only_loopback)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.policy_violations: list[str] = []
        self.script_errors: list[str] = []
        self.documents: dict[str, dict] = {}
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        self.page.on("response", self._response)
        self.language = "nl"

    def _only_loopback(self, route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            route.abort()

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.policy_violations.append(f"{self.page.url}: {message.text}")

    def _response(self, response) -> None:
        request = response.request
        if request.resource_type == "document" and request.frame == self.page.main_frame:
            self.documents[response.url] = response.headers

    # --- Moving around -------------------------------------------------------------------------

    def goto(self, path: str) -> None:
        self.page.goto(self.site + path)

    def sign_in(self, sub: str) -> None:
        """From our login page, through the stand-in LeerID's form, back to us."""
        self.page.locator("form[action='/oidc/authenticate/'] button").click()
        self.page.wait_for_url("**/oauth2/authorize**")
        self.page.fill("input[name=sub]", sub)
        self.page.get_by_role("button", name="Authorize").click()
        self.page.wait_for_url(f"{self.site}/**")

    def sign_out(self) -> None:
        """Afmelden, then End session at the stand-in, back on our login page."""
        self.page.locator("form[action='/logout/'] button").click()
        self.page.wait_for_url("**/oauth2/end_session**")
        self.page.get_by_role("button", name="End session").click()
        self.page.wait_for_url(f"{self.site}/login/**")

    def api_me(self) -> dict:
        return json.loads(self.context.request.get(f"{self.site}/api/me").text())

    def set_language(self, language: str) -> None:
        self.context.add_cookies([{"name": "django_language", "value": language, "url": self.site}])
        self.language = language

    # --- The checks ------------------------------------------------------------------------------

    def check(self, name: str) -> None:
        """Every check on this page, in both languages at both widths, with screenshots."""
        problems = []
        for language in LANGUAGES:
            if language != self.language:
                self.set_language(language)
                self.page.reload()
            for width in WIDTHS:
                self.page.set_viewport_size({"width": width, "height": 800})
                problems += self._problems(f"{name} [{language}, {width} px]", language, width)
                self.page.screenshot(
                    path=self.screenshots / f"{name}-{language}-{width}.png", full_page=True
                )
        self.set_language("nl")
        self.page.set_viewport_size({"width": 360, "height": 800})
        self.page.reload()
        assert problems == [], "\n".join(problems)

    def _problems(self, where: str, language: str, width: int) -> list[str]:
        page = self.page
        problems = []
        assert page.url.startswith(self.site), f"{where}: not our page ({page.url})"
        if page.get_attribute("html", "lang") != language:
            problems.append(f"{where}: html lang is {page.get_attribute('html', 'lang')}")
        found = blocking(violations(page))
        problems += [
            f"{where}: axe {v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for v in found
        ]
        headers = self.documents.get(page.url, {})
        if "default-src 'none'" not in headers.get("content-security-policy", ""):
            problems.append(f"{where}: no Content-Security-Policy header")
        problems += [f"{where}: {text}" for text in self.policy_violations]
        problems += [f"{where}: script error {text}" for text in self.script_errors]
        self.policy_violations.clear()
        self.script_errors.clear()
        background = page.evaluate(
            "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
        )
        if background != HEADER_BACKGROUND:
            problems.append(f"{where}: the stylesheet did not apply ({background})")
        origin = self.site
        foreign = page.evaluate(
            "(origin) => performance.getEntriesByType('resource')"
            ".map(e => e.name).filter(n => !n.startsWith(origin))",
            origin,
        )
        if foreign:
            problems.append(f"{where}: loaded from elsewhere: {foreign}")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            problems.append(f"{where}: scrolls sideways ({scroll_width} px wide)")
        return problems


@pytest.fixture
def tab(browser, site, screenshots):
    opened = []

    def open_tab() -> Tab:
        opened.append(Tab(browser, site, screenshots))
        return opened[-1]

    yield open_tab
    for each in opened:
        each.context.close()


def _pupil_by_sub(sub: str):
    return next(pupil for pupil in DEMO_PUPILS if pupil.sub == sub)


def test_the_whole_demo(tab, site, screenshots):
    """Each demo pupil through the stand-in LeerID; every page of ours passes every check."""
    from privacy.models import PrivacyLogEntry
    from pupils.models import IdentitySnapshot

    # An identified pupil: login page, home, mijn gegevens, the download, logout at LeerID.
    amira = tab()
    amira.goto("/login/")
    amira.check("login")
    amira.sign_in("geidentificeerd")
    assert amira.page.locator("h1").inner_text() == "Hallo Demo Amira!"
    amira.check("home")
    amira.page.get_by_role("link", name="Mijn gegevens").click()
    amira.page.wait_for_url(f"{site}/mijn-gegevens/")
    main = amira.page.locator("main").inner_text()
    assert "Demo Amira" in main
    assert "Voorbeeld-Een" in main
    snapshot = IdentitySnapshot.objects.get(given_name__isnull=False, pupil__kind="identified")
    assert str(snapshot.leer_id_uuid) not in amira.page.content()
    amira.check("mijn-gegevens")
    with amira.page.expect_download() as download:
        amira.page.get_by_role("link", name="Download mijn gegevens (JSON)").click()
    data = json.loads(download.value.path().read_text())
    assert data["login_data"]["given_name"] == "Demo Amira"
    assert data["login_data"]["schools_with_access"] == ["012345"]
    assert str(snapshot.leer_id_uuid) not in json.dumps(data)
    actor = f"pupil:{snapshot.pupil.pseudonym}"
    assert PrivacyLogEntry.objects.filter(actor=actor, action="sensitive_read").exists()
    assert PrivacyLogEntry.objects.filter(actor=actor, action="sensitive_export").exists()
    amira.goto("/")
    amira.sign_out()
    assert "Je bent afgemeld" in amira.page.locator("main").inner_text()
    amira.check("logged-out")
    assert amira.api_me() == {"error": "not_authenticated"}

    # The merge: a temporary account, then the same pupil identified, keeps its public id.
    bram = tab()
    bram.goto("/login/")
    bram.sign_in("tijdelijk")
    temporary = bram.api_me()
    assert temporary["kind"] == "temporary"
    bram.goto("/mijn-gegevens/")
    assert "tijdelijk LeerID-account" in bram.page.locator("main").inner_text()
    bram.check("mijn-gegevens-tijdelijk")
    bram.goto("/")
    bram.sign_out()
    bram.sign_in("later-geidentificeerd")
    merged = bram.api_me()
    assert merged["kind"] == "identified"
    assert merged["pupil_id"] == temporary["pupil_id"]
    bram.check("home-samengevoegd")

    # The refusals: each says why, in the pupil's words.
    for sub, title, name in (
        (
            "school-zonder-afspraak",
            "Je school werkt (nog) niet met i-Learn",
            "refused-no-agreement",
        ),
        ("niet-ingeschreven", "Je bent niet (meer) ingeschreven", "refused-not-enrolled"),
    ):
        refused = tab()
        refused.goto("/login/")
        refused.sign_in(sub)
        assert refused.page.url == f"{site}/login/failed/"
        assert refused.page.locator("h1").inner_text() == title
        refused.check(name)

    # School numbers as integers, and a pupil with one school of two in force.
    for sub, school in (("nummer-als-getal", "012345"), ("twee-scholen", "047001")):
        other = tab()
        other.goto("/login/")
        other.sign_in(sub)
        assert other.api_me()["schools"] == [school], _pupil_by_sub(sub).expected


def test_signed_out_mijn_gegevens_comes_back_after_login(tab, site):
    """Signed out, /mijn-gegevens/ asks for a login and returns there after it."""
    pupil = tab()
    pupil.goto("/mijn-gegevens/")
    assert pupil.page.url == f"{site}/login/?next=/mijn-gegevens/"
    pupil.sign_in("geidentificeerd")
    assert pupil.page.url == f"{site}/mijn-gegevens/"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_error_pages(tab, site, settings, django_user_model):
    """400 (a callback nobody started, a cancelled and an expired login), 403 (signed in, not
    a pupil), 404 and 503 (LeerID down) pass every check."""
    pages = tab()
    pages.goto("/oidc/callback/?code=x&state=y")
    assert pages.documents[pages.page.url]  # the redirect ended on our failure page
    assert "Aanmelden is niet gelukt" in pages.page.locator("h1").inner_text()
    pages.check("error-400")

    # The other reasons with their own words, as the callback leaves them in the session.
    for reason in ("op_access_denied", "state_expired"):
        failed = tab()
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session[FAILURE_SESSION_KEY] = reason
        session.save()
        failed.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": site}]
        )
        failed.goto("/login/failed/")
        assert failed.page.locator("h1").inner_text() == str(MESSAGES[reason][0])
        failed.check(f"error-400-{reason}")

    pages.goto("/nergens/")
    assert pages.page.locator("h1").inner_text() == "Pagina niet gevonden"
    pages.check("error-404")

    staff = django_user_model.objects.create_user("medewerker", is_staff=True)
    client = Client()
    client.force_login(staff)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    forbidden = tab()
    forbidden.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": site}]
    )
    forbidden.goto("/mijn-gegevens/")
    assert forbidden.page.locator("h1").inner_text() == "Geen toegang"
    forbidden.check("error-403")

    settings.LEERID_ISSUER = f"http://127.0.0.1:{_free_port()}"
    oidc_config.reset_caches()
    pages.goto("/login/")
    pages.page.locator("form[action='/oidc/authenticate/'] button").click()
    pages.page.wait_for_url(f"{site}/login/failed/")
    assert pages.page.locator("h1").inner_text() == "i-Learn is even niet bereikbaar"
    pages.check("error-503")


def test_the_privacy_notice(tab, site):
    """The notice passes every check and names the DPO's address."""
    reader = tab()
    reader.goto("/login/")
    reader.page.get_by_role("link", name="Privacy: wat we over je bewaren").click()
    reader.page.wait_for_url(f"{site}/privacy/")
    assert "dpo@example.org" in reader.page.locator("main").inner_text()
    reader.check("privacy")


def _hidden_by_zoom(page) -> list[str]:
    """Elements whose text no longer fits in them (clipped or spilling sideways)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('h1, h2, p, li, dt, dd, a, button, code')]
            .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1
                         && getComputedStyle(e).display !== 'inline')
            .map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 40))"""
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_text_at_200_percent_hides_nothing(tab, site, screenshots, width):
    """Text zoomed to 200 %: no sideways scrolling, no clipped text, on the login page, the
    notice, home and mijn gegevens."""
    pupil = tab()
    pupil.goto("/login/")
    pupil.sign_in("geidentificeerd")
    pupil.page.set_viewport_size({"width": width, "height": 800})
    for path, name in (
        ("/privacy/", "privacy"),
        ("/", "home"),
        ("/mijn-gegevens/", "mijn-gegevens"),
    ):
        pupil.goto(path)
        pupil.page.evaluate("document.documentElement.style.fontSize = '200%'")
        wide = pupil.page.evaluate(
            "(w) => [...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > w)"
            ".map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 30))",
            width,
        )
        assert wide == [], name
        assert _hidden_by_zoom(pupil.page) == [], name
        pupil.page.screenshot(path=screenshots / f"{name}-zoom200-{width}.png", full_page=True)


def test_it_works_with_the_keyboard_only(tab, site):
    """Skip link first (and it skips the header); Tab visits every control in page order,
    each with a visible focus ring; Enter on the download link downloads."""
    pupil = tab()
    pupil.goto("/login/")
    pupil.sign_in("geidentificeerd")
    pupil.goto("/mijn-gegevens/")
    page = pupil.page
    in_order = page.evaluate(
        """() => [...document.querySelectorAll('a[href], button, input:not([type=hidden])')]
            .filter(e => e.offsetParent !== null || e.classList.contains('skip-link'))
            .map(e => e.textContent.trim())"""
    )
    visited = []
    for _ in in_order:
        page.keyboard.press("Tab")
        visited.append(page.evaluate("document.activeElement.textContent.trim()"))
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", ""), visited[-1]
    assert visited == in_order
    assert visited[0] == "Naar de inhoud"
    # The skip link takes the focus past the header, into the content.
    page.reload()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    for _ in in_order:
        if page.evaluate("document.activeElement.textContent.trim()") == (
            "Download mijn gegevens (JSON)"
        ):
            break
        page.keyboard.press("Tab")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert json.loads(download.value.path().read_text())["account"]["kind"] == "identified"
