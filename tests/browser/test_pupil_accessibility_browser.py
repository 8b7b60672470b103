"""The pupil pages by keyboard only and with text at 200 %, in Debian's Chromium.

Keyboard use: the skip link first, a logical order, a visible focus. Zoomed text: nothing
scrolls sideways, nothing is clipped. The other checks of every page (axe-core, the
Content-Security-Policy, screenshots) are in ``test_pupil_pages_browser.py``.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.pupil_tab import WIDTHS

pytestmark = [pytest.mark.browser, pytest.mark.integration]


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
