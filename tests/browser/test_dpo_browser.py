"""The DPO in a real Chromium: the dashboard's charts, and the evidence bundle's report."""

from __future__ import annotations

import zipfile

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.testing import undertaking_signed

pytestmark = [pytest.mark.browser, pytest.mark.real_second_factor]

CHARTS = (
    "chart-verification",
    "chart-breaches",
    "chart-logins",
    "chart-refusals",
    "chart-retention",
    "chart-agreements",
)


@pytest.fixture
def seeded(live_server, transactional_db):
    call_command("seed_demo")
    user = User.objects.create_user(
        username="dirk-dpo", password="a-long-test-password-1", is_staff=True
    )
    undertaking_signed(user)  # the DPO group sees personal data: undertaking first
    user.groups.set(Group.objects.filter(name="DPO"))
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return live_server


def current_code(username: str) -> str:
    """The second factor (staff sign-in): the code the DPO's app shows now."""
    device = TOTPDevice.objects.get(user__username=username)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def wide_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-BE")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_the_dpo_opens_the_dashboard_and_finds_each_chart(seeded, wide_page, screenshots):
    page = wide_page
    errors: list[str] = []
    # Chromium writes "... violates the following Content Security Policy directive ...".
    page.on("console", lambda m: "Content Security Policy" in m.text and errors.append(m.text))
    failed: list[str] = []
    page.on(
        "response", lambda r: r.status >= 400 and "favicon" not in r.url and failed.append(r.url)
    )
    page.goto(f"{seeded.url}/admin/dashboard/")
    page.fill("#id_username", "dirk-dpo")
    page.fill("#id_password", "a-long-test-password-1")
    page.locator("input[type=submit]").click()
    page.fill("input[name=code]", current_code("dirk-dpo"))
    page.locator("#code-form input[type=submit]").click()
    page.wait_for_url(f"{seeded.url}/admin/dashboard/")
    for chart in CHARTS:
        svg = page.locator(f"svg#{chart}")
        assert svg.is_visible(), chart
        assert svg.get_attribute("role") == "img"
        assert page.locator(f"#{chart}-title").count() == 1
        box = svg.bounding_box()
        # Two charts a row without the admin's app sidebar (issue 13): the one-bar breaches
        # chart is then 40 px high, scaled from its viewBox; a collapsed chart would be ~0.
        assert box["width"] > 300 and box["height"] > 30, chart
    assert page.get_by_role("img", name="Overeenkomsten die binnen 30 dagen aflopen").is_visible()
    # Its stylesheet applies under the Content-Security-Policy; nothing was blocked.
    border = page.evaluate("getComputedStyle(document.querySelector('.dpo-panel')).borderTopStyle")
    assert border == "solid"
    assert errors == []
    assert failed == []
    page.screenshot(path=screenshots / "dpo-dashboard.png", full_page=True)


def test_the_bundle_of_the_demo_unzips_and_its_report_opens(
    seeded, wide_page, tmp_path, screenshots
):
    out = tmp_path / "bundle.zip"
    call_command("evidence_bundle", "--out", str(out))
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(folder)
    page = wide_page
    page.goto((folder / "index.html").as_uri())
    assert page.locator("h1#bundle-title").inner_text() == "Bewijsbundel i-Learn Auth"
    assert page.locator("h2#registers-processing_activities").is_visible()
    assert "DEMO Hosting bv" in page.content()
    page.screenshot(path=screenshots / "dpo-bundle.png", full_page=True)
