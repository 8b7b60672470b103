"""axe-core (npm, pinned in tests/browser/axe/package-lock.json) run inside a Playwright page.

``npm ci`` installs it on first use (node_modules is not committed). The script is evaluated
through the DevTools protocol, which the page's Content-Security-Policy does not govern, so
the pages are checked under their real policy: nothing is loaded from elsewhere.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest

AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
# What must never be found; "moderate" and "minor" are reported but do not fail.
BLOCKING = {"serious", "critical"}
# WCAG 2.1 A and AA and axe's best practices.
RUN_ONLY = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@functools.cache
def axe_source() -> str:
    if not AXE_JS.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is needed to install axe-core for the accessibility checks")
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=AXE_DIR,
            check=True,
            timeout=300,
        )
    return AXE_JS.read_text()


def violations(page) -> list[dict]:
    """axe's violations on the page as it is now: id, impact, help and the elements."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    return page.evaluate(
        """async (runOnly) => {
            const result = await axe.run(document, {
                runOnly: {type: 'tag', values: runOnly}, resultTypes: ['violations'],
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
            }));
        }""",
        RUN_ONLY,
    )


def blocking(found: list[dict]) -> list[dict]:
    return [violation for violation in found if violation["impact"] in BLOCKING]
