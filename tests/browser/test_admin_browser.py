"""The admin's everyday work in a real Chromium at 1280 px, by the three roles (issue 13).

One story: a pupil of 047001 signs in; Agreements staff suspend 047001 (after a confirmation
that counts the pupils it shuts out); the pupil is refused and reads a reference; Support finds
why from that reference (no name until the logged step); the DPO exports and erases the pupil
with a request reference and verifies the privacy log's chain. The privacy log is checked after
each step, and no change list of any role scrolls sideways.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model

from privacy.models import PrivacyLogEntry
from pupils.models import Pupil
from retention.services import retention_run
from staff.demo import DEMO_PASSWORD, demo_code, seed_demo_staff
from tests.browser.conftest import LOOPBACK
from tests.integration.conftest import use_op

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PUPIL_SUB = "browser-leerling"
PUPIL_CLAIMS = {
    "given_name": "Browsa",
    "family_name": "Fictief-Leerling",
    "ov_account_uuid": "00000000-0000-4000-8000-00000000b001",
    "ov_leerid_uuid": ["00000000-0000-4000-8000-00000000b002"],
    "ov_inschrijvingen": ["047001"],
}


@pytest.fixture
def site(live_server, mock_op, settings, transactional_db):
    from schools.demo import seed_demo_schools

    seed_demo_schools()
    use_op(settings, mock_op)
    mock_op.set_user(PUPIL_SUB, PUPIL_CLAIMS)
    # The demo staff of `make run`: one per role, second factor enrolled (staff/demo.py).
    settings.DEBUG = settings.LEERID_DEMO = True
    seed_demo_staff()
    return live_server


def _context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-BE")

    def only_loopback(route):
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_loopback)
    context.set_default_timeout(15_000)
    return context


def _pupil_signs_in(browser, base: str):
    page = _context(browser).new_page()
    page.goto(f"{base}/login/")
    page.get_by_role("button", name="Aanmelden met LeerID").click()
    page.wait_for_url("**/oauth2/authorize**")
    page.fill("input[name=sub]", PUPIL_SUB)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_load_state()
    return page


def _staff(browser, base: str, role: str):
    """The demo staff member of ``role``, signed in with password and authenticator code."""
    page = _context(browser).new_page()
    page.goto(f"{base}/admin/")
    page.fill("input[name=username]", f"demo-{role.lower()}")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login-form input[type=submit]")
    page.wait_for_url("**/admin/sign-in/code/**")
    page.fill("input[name=code]", demo_code(f"demo-{role.lower()}"))
    page.click("#code-form input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    return page


def _staff_pk(role: str) -> int:
    return get_user_model().objects.get(username=f"demo-{role.lower()}").pk


def _newest(action: str, **filters) -> PrivacyLogEntry:
    return PrivacyLogEntry.objects.filter(action=action, **filters).order_by("-sequence").first()


def _fits(page) -> None:
    """Neither the page nor the change list's table scrolls sideways at 1280 px."""
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 1280, (page.url, page_width)
    overflow = page.evaluate(
        "Array.from(document.querySelectorAll('#changelist .results'))"
        ".map(el => el.scrollWidth - el.clientWidth)"
    )
    assert all(extra <= 0 for extra in overflow), (page.url, overflow)


def _every_change_list_fits(page, base: str, screenshots, role: str) -> int:
    page.goto(f"{base}/admin/")
    links = page.eval_on_selector_all(
        "#content-main tr[class^=model-] th a", "links => links.map(a => a.href)"
    )
    for link in links:
        page.goto(link)
        _fits(page)
        name = urlsplit(link).path.strip("/").replace("/", "-")
        page.screenshot(path=screenshots / f"{role}-{name}.png", full_page=True)
    return len(links)


def test_three_roles_do_their_everyday_work(site, browser, screenshots):
    # One piece: each numbered step works on what the one before left behind (the suspended
    # school, the refusal's reference, the pupil found, then erased), as the module says.
    base = site.url
    retention_run(dry_run=True, trigger="command")

    # 1. The pupil of 047001 gets in.
    pupil_page = _pupil_signs_in(browser, base)
    assert pupil_page.url == f"{base}/"
    pupil = Pupil.objects.get()
    assert _newest("authn_login_success").subject == pupil.pseudonym

    # 2. Agreements staff suspend 047001, after a page naming it and counting its pupils.
    agreements = _staff(browser, base, "Agreements")
    agreements.goto(f"{base}/admin/schools/agreement/")
    _fits(agreements)
    row = agreements.locator("#result_list tbody tr", has_text="047001")
    row.locator("input.action-select").check()
    agreements.select_option("select[name=action]", "suspend")
    agreements.click("button[name=index]")
    agreements.wait_for_load_state()
    assert "047001" in agreements.locator("#confirm-schools").inner_text()
    assert (
        "1 leerling meldde zich de voorbije 30 dagen aan"
        in agreements.locator("#confirm-pupils").inner_text()
    )
    assert "Browsa" not in agreements.content()
    agreements.screenshot(path=screenshots / "agreements-suspend-confirm.png", full_page=True)
    agreements.get_by_role("button", name="Ja, opschorten").click()
    agreements.wait_for_url(f"{base}/admin/schools/agreement/")
    assert "1 overeenkomst gewijzigd" in agreements.locator(".messagelist").inner_text()
    changed = _newest("agreement_changed")
    assert (changed.actor, changed.subject) == (f"staff:{_staff_pk('Agreements')}", "school:047001")
    assert changed.details["changes"][0]["fields"] == ["status"]
    assert _every_change_list_fits(agreements, base, screenshots, "agreements") >= 2

    # 3. The pupil is refused and reads a short reference out to Support.
    refused = _pupil_signs_in(browser, base)
    assert refused.url == f"{base}/login/failed/"
    reference = refused.locator(".reference").inner_text()
    refusal = _newest("authz_fail", subject=pupil.pseudonym)
    assert (refusal.reason, refusal.details["schools"]) == ("no_agreement", ["047001"])
    refused.screenshot(path=screenshots / "pupil-refused.png", full_page=True)

    # 4. Support finds why from the reference: no name until the logged step.
    support = _staff(browser, base, "Support")
    support.goto(f"{base}/admin/pupils/pupil/")
    support.click("#support-refusals")
    support.fill("#refusal-key", reference)
    support.click("#refusal-find input[type=submit]")
    support.wait_for_load_state()
    table = support.locator("#refusals").inner_text()
    assert "geen enkele school heeft een overeenkomst die vandaag geldt" in table
    assert "047001: opgeschort" in table
    assert reference in table
    assert "Fictief-Leerling" not in support.content()
    assert _newest("sensitive_read") is None
    _fits(support)
    support.screenshot(path=screenshots / "support-refusals.png", full_page=True)
    support.click("#show-identity")
    support.wait_for_load_state()
    assert "Browsa Fictief-Leerling" in support.locator("#identity").inner_text()
    read = _newest("sensitive_read")
    assert (read.actor, read.subject) == (f"staff:{_staff_pk('Support')}", pupil.pseudonym)
    assert read.details == {"page": "support_refusals"}
    assert _every_change_list_fits(support, base, screenshots, "support") >= 1

    # 5. The DPO finds the pupil by public id, exports and erases it with a request reference.
    dpo = _staff(browser, base, "DPO")
    dpo.goto(f"{base}/admin/pupils/pupil/")
    dpo.fill("#pupil-find-key", str(pupil.public_id))
    dpo.click("#pupil-find input[type=submit]")
    dpo.wait_for_url(f"{base}/admin/pupils/pupil/{pupil.pk}/change/")
    dpo.click("#pupil-export")
    dpo.fill("input[name=reference]", "DPO-2026-014")
    with dpo.expect_download() as download:
        dpo.get_by_role("button", name="Exporteren").click()
    exported = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert exported["pseudonym"] == pupil.pseudonym
    export = _newest("sensitive_export")
    assert (export.actor, export.subject) == (f"staff:{_staff_pk('DPO')}", pupil.pseudonym)
    assert export.details == {"reference": "DPO-2026-014"}

    dpo.goto(f"{base}/admin/pupils/pupil/{pupil.pk}/change/")
    dpo.click("#pupil-erase")
    what = dpo.locator("#erase-what").inner_text()
    assert "momentopname" in what and "account-alias" in what and "sessies" in what
    dpo.screenshot(path=screenshots / "dpo-erase-confirm.png", full_page=True)
    dpo.fill("input[name=reference]", "DPO-2026-015")
    dpo.get_by_role("button", name="Ja, wissen").click()
    dpo.wait_for_url(f"{base}/admin/pupils/pupil/")
    assert "is gewist (verzoek DPO-2026-015)" in dpo.locator(".messagelist").inner_text()
    assert not Pupil.objects.exists()
    erased = _newest("sensitive_delete")
    assert erased.subject == pupil.pseudonym and erased.details == {"reference": "DPO-2026-015"}

    # 6. The DPO checks the chain from the privacy log's list; the check is itself logged.
    dpo.goto(f"{base}/admin/privacy/privacylogentry/")
    _fits(dpo)
    assert pupil.pseudonym not in dpo.locator("#result_list").inner_text()
    dpo.get_by_role("button", name="Keten controleren").click()
    dpo.wait_for_load_state()
    verified = _newest("privacy_log_verified")
    assert verified.outcome == "success" and verified.actor == f"staff:{_staff_pk('DPO')}"
    message = dpo.locator(".messagelist").inner_text()
    assert "De keten is in orde" in message and verified.details["head_hash"] in message
    dpo.screenshot(path=screenshots / "dpo-privacy-log.png", full_page=True)

    dpo.goto(f"{base}/admin/retention/retentionrun/")
    # The dry run made at the start reads as one, in words.
    assert "ja" in dpo.locator("#result_list td.field-dry_run_label").all_inner_texts()
    assert _every_change_list_fits(dpo, base, screenshots, "dpo") >= 5
