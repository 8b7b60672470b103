"""Staff in a real Chromium: each demo role signs in with password and TOTP; no second factor,
no pupil data; five wrong passwords lock an account, the DPO unlocks it; all in the privacy log.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from privacy import actions
from privacy.models import PrivacyLogEntry
from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims, new_key
from staff.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo_staff
from staff.testing import undertaking_signed

pytestmark = [pytest.mark.browser, pytest.mark.real_second_factor]


@pytest.fixture
def admin_demo(live_server, settings, transactional_db):
    settings.DEBUG = True
    settings.LEERID_DEMO = True
    seed_demo_staff()
    pupil = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=new_key()), granted_schools={"012345"}
    )
    return live_server, pupil


def fresh_code(username: str) -> str:
    """The code the demo app shows now, or the next one when this one was just used."""
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    while True:
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        now_t = totp.t()
        target = max(now_t, device.last_t + 1)
        if target <= now_t + device.tolerance:
            totp.time = device.t0 + target * device.step
            return f"{totp.token():06d}"
        time.sleep(1)


POLICY_VIOLATIONS: list[str] = []


def new_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-BE")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            POLICY_VIOLATIONS.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.goto(url)
    return page


def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-form input[type=submit]")
    page.wait_for_load_state()


def entries(action: str, **filters) -> list[PrivacyLogEntry]:
    return list(PrivacyLogEntry.objects.filter(action=action, **filters).order_by("sequence"))


def test_staff_sign_in_second_factor_and_lockout_in_a_browser(admin_demo, browser, screenshots):
    POLICY_VIOLATIONS.clear()
    server, pupil = admin_demo
    base = server.url
    users = {user.username: user for user in get_user_model().objects.filter(is_staff=True)}

    # 1. Each demo role: the login page names it; password, then the code.
    pages = _each_demo_role_signs_in(browser, base, screenshots, users)

    # 2. Without a second factor, a Support member reaches no pupil data: only enrolment.
    _without_a_second_factor_only_enrolment(browser, base, screenshots, pupil)

    # 3. Five wrong passwords lock demo-support; the right one is then refused.
    support = users["demo-support"]
    page = _five_wrong_passwords_lock_out(browser, base, screenshots, support)

    # 4. The DPO sees it in the access review and lifts the lock from the user list.
    dpo_page = pages["DPO"]
    _the_dpo_lifts_the_lockout(dpo_page, base, screenshots, support, users)

    # 5. demo-support gets in again, with a fresh code.
    sign_in(page, "demo-support")
    page.fill("input[name=code]", fresh_code("demo-support"))
    page.click("#code-form input[type=submit]")
    page.wait_for_url(f"{base}/admin/")

    # 6. The DPO reads every step in the privacy log, by its Dutch labels.
    dpo_page.goto(f"{base}/admin/privacy/privacylogentry/")
    log_page = dpo_page.locator("#result_list").inner_text()
    for label in ("aanmelden geblokkeerd", "blokkering opgeheven", "aanmelding geweigerd"):
        assert label in log_page
    dpo_page.screenshot(path=screenshots / "staff-privacy-log.png", full_page=True)

    # 7. Every page worked under the Content-Security-Policy (no inline style or script).
    assert POLICY_VIOLATIONS == []


def _each_demo_role_signs_in(browser, base, screenshots, users) -> dict:
    """Signs each demo account in (password, then code); its page by role."""
    pages = {}
    for account in DEMO_ACCOUNTS:
        page = new_page(browser, f"{base}/admin/")
        assert "/admin/login/" in page.url
        demo_box = page.locator("#demo-staff").inner_text()
        assert account.username in demo_box and "demo_totp" in demo_box
        if account.role == "DPO":
            page.screenshot(path=screenshots / "staff-login-demo.png", full_page=True)
        sign_in(page, account.username)
        assert "/admin/sign-in/code/" in page.url
        page.fill("input[name=code]", fresh_code(account.username))
        page.click("#code-form input[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        assert account.username.upper() in page.locator("#user-tools").inner_text().upper()
        pages[account.role] = page
    pupils_url = f"{base}/admin/pupils/pupil/"
    assert pages["Support"].goto(pupils_url).status == 200
    assert pages["Agreements"].goto(pupils_url).status == 403
    signed_in = entries(actions.AUTHN_LOGIN_SUCCESS, details__stage="second_factor")
    assert {entry.subject for entry in signed_in} == {
        f"staff:{users[a.username].pk}" for a in DEMO_ACCOUNTS
    }
    return pages


def _without_a_second_factor_only_enrolment(browser, base, screenshots, pupil) -> None:
    pupils_url = f"{base}/admin/pupils/pupil/"
    newcomer = get_user_model().objects.create_user(
        "nina-new", password="a-long-staff-password-1", is_staff=True
    )
    undertaking_signed(newcomer)
    newcomer.groups.add(Group.objects.get(name="Support"))
    page = new_page(browser, f"{base}/admin/")
    sign_in(page, "nina-new", "a-long-staff-password-1")
    assert "/admin/sign-in/enrol/" in page.url
    assert page.locator("#enrol-qr svg").count() == 1
    page.screenshot(path=screenshots / "staff-enrol.png", full_page=True)
    for url in (pupils_url, f"{base}/admin/pupils/pupil/{pupil.pk}/change/"):
        page.goto(url)
        assert "/admin/sign-in/enrol/" in page.url
        assert pupil.pseudonym[:12] not in page.content()
    [password_only] = entries(actions.AUTHN_LOGIN_SUCCESS, subject=f"staff:{newcomer.pk}")
    assert password_only.details == {"stage": "password", "second_factor": "none"}


def _five_wrong_passwords_lock_out(browser, base, screenshots, support):
    """Returns the login page, where demo-support is locked out."""
    page = new_page(browser, f"{base}/admin/login/")
    for _ in range(5):
        sign_in(page, "demo-support", "not-the-password-1")
    assert "geblokkeerd tot" in page.locator("#staff-message").inner_text()
    sign_in(page, "demo-support")
    assert "geblokkeerd tot" in page.locator("#staff-message").inner_text()
    assert "/admin/login/" in page.url
    page.screenshot(path=screenshots / "staff-locked.png", full_page=True)
    failures = entries(actions.AUTHN_LOGIN_FAIL, subject=f"staff:{support.pk}")
    assert [f.reason for f in failures] == ["wrong_password"] * 5 + ["locked_out"]
    assert entries(actions.AUTHN_LOGIN_LOCK, subject=f"staff:{support.pk}")
    return page


def _the_dpo_lifts_the_lockout(dpo_page, base, screenshots, support, users) -> None:
    dpo_page.goto(f"{base}/admin/staff/access-review/")
    row = dpo_page.locator("#access-review tr", has_text="demo-support")
    assert row.locator("td").last.inner_text() == "ja"  # the "geblokkeerd" column
    dpo_page.screenshot(path=screenshots / "staff-access-review.png", full_page=True)
    dpo_page.goto(f"{base}/admin/auth/user/")
    dpo_page.check(f"input[name=_selected_action][value='{support.pk}']")
    dpo_page.select_option("select[name=action]", "lift_lockout")
    dpo_page.click("button[name=index]")
    dpo_page.wait_for_load_state()
    assert "opgeheven" in dpo_page.locator(".messagelist").inner_text()
    [unlock] = entries(actions.STAFF_UNLOCKED)
    assert (unlock.actor, unlock.subject) == (
        f"staff:{users['demo-dpo'].pk}",
        f"staff:{support.pk}",
    )
