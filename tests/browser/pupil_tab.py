"""A pupil's browser tab for the browser tests of the pupil pages, and the checks it makes.

The fixtures ``site`` (the demo through Django's live server and the stand-in LeerID) and
``tab`` (``tab()`` opens a fresh device) are in ``tests/browser/conftest.py``.
``Tab.check(name)`` checks the current page of ours, in Dutch and in English, at 360 px and at
1280 px:

- axe-core (tests/browser/axe.py) finds no serious or critical violation;
- the Content-Security-Policy header is sent, the browser reports no violation of it, the
  stylesheet applies, and every resource came from this origin;
- nothing scrolls sideways; a screenshot goes to ``BROWSER_SCREENSHOTS`` (or the tmp folder).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from tests.browser.axe import blocking, violations

WIDTHS = (360, 1280)
LANGUAGES = ("nl", "en")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The header's colour in site.css: proof that the stylesheet loaded under the policy.
HEADER_BACKGROUND = "rgb(11, 79, 108)"


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
