"""The whole demo in Debian's Chromium, every pupil page checked the way a school device sees it.

Playwright drives the stand-in LeerID of `make run` (oidc-provider-mock with the demo pupils)
against Django's live server: each demo pupil, the merge, the refusals, "mijn gegevens" and
its download, logout at the stand-in, the error pages and the privacy notice. On every page of
ours, in Dutch and in English, at 360 px and at 1280 px:

- axe-core (tests/browser/axe.py) finds no serious or critical violation;
- the Content-Security-Policy header is sent, the browser reports no violation of it, the
  stylesheet applies, and every resource came from this origin;
- nothing scrolls sideways; a screenshot goes to ``BROWSER_SCREENSHOTS`` (or the tmp folder).

Keyboard use (skip link first, logical order, visible focus) and 200 % text are tested in
``test_pupil_accessibility_browser.py``; the tab and its checks are in ``pupil_tab.py``.
"""

from __future__ import annotations

import json
import socket
from importlib import import_module

import pytest
from django.test import Client

from demo.pupils import DEMO_PUPILS
from ilearn_auth import oidc_config
from ilearn_auth.failures import FAILURE_SESSION_KEY, MESSAGES

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def _pupil_by_sub(sub: str):
    return next(pupil for pupil in DEMO_PUPILS if pupil.sub == sub)


def test_the_whole_demo(tab, site, screenshots):
    """Each demo pupil through the stand-in LeerID; every page of ours passes every check."""
    _an_identified_pupil(tab, site)
    _the_merge(tab)
    _the_refusals(tab, site)
    _school_numbers(tab)


def _an_identified_pupil(tab, site) -> None:
    """Login page, home, mijn gegevens, the download, logout at LeerID."""
    from privacy.models import PrivacyLogEntry
    from pupils.models import IdentitySnapshot

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


def _the_merge(tab) -> None:
    """A temporary account, then the same pupil identified, keeps its public id."""
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


def _the_refusals(tab, site) -> None:
    """Each refusal says why, in the pupil's words."""
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


def _school_numbers(tab) -> None:
    """School numbers as integers, and a pupil with one school of two in force."""
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
