"""The privacy log in the admin: DPO reads and exports, nobody writes; registers log changes."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

import privacy
from ilearn_auth.roles import DPO, roles_sync
from privacy import actions
from privacy.models import Breach, PrivacyLogEntry
from privacy.pseudonyms import pseudonymize
from privacy.tests.helpers import OTHER_PSEUDONYM, PSEUDONYM, write
from staff.testing import undertaking_signed

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:privacy_privacylogentry_changelist"
# Generated, obviously fictitious LeerID key for the search tests.
LEERID_KEY = "00000000-0000-4000-8000-00000000f1c7"


def staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="not-used-by-force-login", is_staff=True)
    for codename in codenames:
        app_label, name = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=name)
        )
    return user


@pytest.fixture
def dpo(client) -> User:
    """A member of the real DPO group, with the permissions of the roles matrix."""
    roles_sync()
    user = staff("dpo-fictief")
    undertaking_signed(user)
    user.groups.add(Group.objects.get(name=DPO))
    client.force_login(user)
    return user


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("root-fictief", password="not-used-by-force-login")


def test_the_dpo_group_may_view_the_log_and_nothing_more(dpo):
    """The DPO may view the log; no add/change/delete permission on it even exists."""
    codenames = set(
        Permission.objects.filter(
            content_type__app_label="privacy", content_type__model="privacylogentry"
        ).values_list("codename", flat=True)
    )
    assert codenames == {"view_privacylogentry"}
    assert dpo.has_perm("privacy.view_privacylogentry")
    assert dpo.has_perm("privacy.add_breach")
    assert not dpo.has_perm("privacy.delete_breach")


def test_it_shows_the_dpo_the_list_and_the_detail(client, dpo):
    """The DPO sees entries in the list and one entry read-only, with no save button."""
    before = PrivacyLogEntry.objects.count()  # creating the DPO's account is logged too
    entry = write(3)[-1]
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert response.context["cl"].result_count == before + 3
    detail = client.get(reverse("admin:privacy_privacylogentry_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert entry.hash in detail.content.decode()
    assert b'name="_save"' not in detail.content


def test_it_refuses_staff_without_the_permission(client):
    """Staff without view permission get 403; anonymous visitors go to the login page."""
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302
    client.force_login(staff("agreements-fictief", "schools.view_school"))
    assert client.get(reverse(CHANGELIST)).status_code == 403


@pytest.mark.parametrize("who", ["dpo", "superuser"])
def test_nobody_adds_changes_or_deletes_entries(client, request, who):
    """Not the DPO, not a superuser: add, change and delete are all refused."""
    user = request.getfixturevalue(who)
    client.force_login(user)
    entry = write(1)[0]
    add = client.get(reverse("admin:privacy_privacylogentry_add"))
    assert add.status_code == 403
    change = client.post(
        reverse("admin:privacy_privacylogentry_change", args=[entry.pk]),
        {"actor": "system", "action": "authz_fail", "outcome": "failure"},
    )
    assert change.status_code == 403
    delete = client.post(
        reverse("admin:privacy_privacylogentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    bulk = client.post(
        reverse(CHANGELIST), {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert bulk.status_code in (200, 302)
    stored = PrivacyLogEntry.objects.get(pk=entry.pk)
    assert (stored.actor, stored.hash) == (entry.actor, entry.hash)
    listing = client.get(reverse(CHANGELIST))
    offered = [name for name, _ in listing.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in offered


def test_it_exports_csv_and_logs_the_export(client, dpo):
    """The export streams the selected entries and is itself a privacy_log_export entry."""
    entries = write(3)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "export_csv", "_selected_action": [e.pk for e in entries]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("sequence,created_at,actor,action")
    assert len(lines) == 4
    assert entries[-1].hash in lines[-1]
    export = PrivacyLogEntry.objects.get(action=actions.PRIVACY_LOG_EXPORT)
    assert (export.actor, export.details["entries"]) == (f"staff:{dpo.pk}", 3)


def test_it_filters_by_action_outcome_actor_and_date(client, dpo):
    """The list filters narrow the entries as labelled."""
    before = PrivacyLogEntry.objects.count()  # creating the DPO's account is logged too
    write(2)
    privacy.log("authz_fail", actor="staff:7", outcome="failure", reason="no_permission")
    url = reverse(CHANGELIST)

    def count(**params) -> int:
        response = client.get(url, params)
        assert response.status_code == 200
        return response.context["cl"].result_count

    assert count(action="authz_fail") == 1
    assert count(outcome="failure") == 1
    assert count(actor="staff:") == 1
    assert count(actor="pupil:") == 2
    assert count(created_at__from="2000-01-01") == before + 3
    assert count(created_at__until="2000-01-01") == 0
    # A malformed date is the admin's "?e=1" page, not a 500.
    assert client.get(url, {"created_at__from": "not-a-date"}).status_code == 302


TYPED_SPELLINGS = {
    "hyphens": LEERID_KEY.upper(),
    "no_hyphens": LEERID_KEY.replace("-", ""),
    # As copied from a mail or a spreadsheet: the key with what came along.
    "urn": f"urn:uuid:{LEERID_KEY}",
    "braces_and_a_dot": f"{{{LEERID_KEY}}}.",
    "spaces": f" {LEERID_KEY[:8]} {LEERID_KEY[8:]} ",
}


@pytest.mark.parametrize("spelling", list(TYPED_SPELLINGS))
def test_it_finds_entries_by_pseudonym_and_by_a_typed_leerid_key(client, dpo, spelling):
    """The search box posts: a LeerID key, however it was typed or pasted, comes back as its
    pseudonym, never as itself in the URL."""
    target = pseudonymize(LEERID_KEY)
    privacy.log("authn_login_success", actor=f"pupil:{target}", subject=target)
    write(2, actor=f"pupil:{OTHER_PSEUDONYM}", subject=OTHER_PSEUDONYM)
    response = client.get(reverse(CHANGELIST), {"q": target})
    assert response.context["cl"].result_count == 1
    typed = TYPED_SPELLINGS[spelling]
    search = client.post(
        reverse("admin:privacy_privacylogentry_search_key"), {"q": typed, "outcome": "success"}
    )
    assert search.status_code == 302
    assert LEERID_KEY.replace("-", "") not in search["Location"].lower().replace("-", "")
    assert target in search["Location"] and "outcome=success" in search["Location"]
    assert client.get(search["Location"]).context["cl"].result_count == 1


def test_it_has_no_search_box_that_sends_a_key_in_the_url(client, dpo):
    """The changelist's search box is in a POST form; no GET form has a search field."""
    html = client.get(reverse(CHANGELIST)).content.decode()
    forms = re.findall(r"(<form[^>]*>)(.*?)</form>", html, re.S)
    search = [body for tag, body in forms if 'id="changelist-search"' in tag]
    assert search and all('method="post"' in tag for tag, _ in forms if "changelist-search" in tag)
    assert not [tag for tag, body in forms if 'method="get"' in tag and 'name="q"' in body]


@pytest.mark.parametrize(
    "typed", [LEERID_KEY, LEERID_KEY.replace("-", ""), f"urn:uuid:{LEERID_KEY}."]
)
def test_it_refuses_a_key_typed_into_the_url(client, dpo, typed):
    """?q=<key> (either spelling) is not searched for: back to the list, key dropped, told why."""
    target = pseudonymize(LEERID_KEY)
    privacy.log("authn_login_success", actor=f"pupil:{target}", subject=target)
    response = client.get(reverse(CHANGELIST), {"q": typed, "outcome": "success"})
    assert response.status_code == 302
    assert typed not in response["Location"] and target not in response["Location"]
    assert "outcome=success" in response["Location"]
    page = client.get(response["Location"])
    assert "niet in de URL" in page.content.decode()


@pytest.mark.parametrize(
    "lookup", ["details__contains", "details__icontains", "details__has_key", "details"]
)
def test_it_answers_a_filter_into_details_with_400_not_500(client, dpo, lookup):
    """?details__contains=... (a 500 on SQLite) is refused with 400 on every database."""
    write(1)
    response = client.get(reverse(CHANGELIST), {lookup: "kind"})
    assert response.status_code == 400
    assert client.get(reverse(CHANGELIST), {"outcome": "success"}).status_code == 200


def test_it_logs_every_register_change(client, dpo):
    """Adding and changing a breach each write a register_changed entry."""
    url = reverse("admin:privacy_breach_add")
    response = client.post(
        url,
        {
            "found_at_0": "2026-03-01",
            "found_at_1": "10:00:00",
            "description": "Fictief voorval: laptop verloren.",
            "affected_count": "0",
            "status": "open",
            "tell_pupils": "undecided",
        },
    )
    assert response.status_code == 302, response.content
    breach = Breach.objects.get()
    entry = PrivacyLogEntry.objects.get(action=actions.REGISTER_CHANGED)
    assert (entry.actor, entry.subject, entry.reason) == (
        f"staff:{dpo.pk}",
        f"breach:{breach.pk}",
        "added",
    )
    assert PSEUDONYM not in str(entry.details)


def test_it_lists_short_pseudonyms_and_explained_reasons(client, dpo):
    """The list shows 12-character pseudonyms for actor and subject and the Dutch meaning of
    a reason code; the entry's page shows them in full, with one "actie" row."""
    entry = privacy.log(
        "authz_fail",
        actor=f"pupil:{PSEUDONYM}",
        subject=PSEUDONYM,
        outcome="failure",
        reason="no_agreement",
    )
    listing = client.get(reverse(CHANGELIST)).content.decode()
    assert f"pupil:{PSEUDONYM[:12]}…" in listing
    assert PSEUDONYM not in listing
    assert "geen enkele school heeft een overeenkomst" in listing
    detail = client.get(reverse("admin:privacy_privacylogentry_change", args=[entry.pk]))
    content = detail.content.decode()
    assert PSEUDONYM in content
    assert "(no_agreement)" in content and "(authz_fail)" in content
    assert content.count("<label>Actie:</label>") == 1
    assert "/history/" not in content


def test_it_verifies_the_chain_for_the_dpo_and_logs_it(client, dpo):
    """ "Keten controleren" walks the chain, shows the head hash and leaves an entry."""
    before = PrivacyLogEntry.objects.count()  # creating the DPO's account may be logged too
    entries = write(3)
    response = client.post(reverse("admin:privacy_privacylogentry_verify"), follow=True)
    content = response.content.decode()
    assert f"De keten is in orde: {before + 3} regels gecontroleerd" in content
    assert entries[-1].hash in content
    logged = PrivacyLogEntry.objects.get(action="privacy_log_verified")
    assert logged.actor == f"staff:{dpo.pk}"
    assert logged.details["head_hash"] == entries[-1].hash
    assert logged.details["entries"] == before + 3


def test_it_refuses_the_chain_check_to_other_staff(client):
    """Support may not run the verification: 403 and an authz_fail entry, no verification."""
    roles_sync()
    user = staff("support-fictief")
    undertaking_signed(user)
    user.groups.add(Group.objects.get(name="Support"))
    client.force_login(user)
    assert client.post(reverse("admin:privacy_privacylogentry_verify")).status_code == 403
    assert not PrivacyLogEntry.objects.filter(action="privacy_log_verified").exists()
    assert PrivacyLogEntry.objects.get(action="authz_fail").actor == f"staff:{user.pk}"


def test_the_chain_check_starts_from_the_last_recorded_head(client, dpo):
    """A check verifies from the newest head any check recorded (its own, or the daily
    self-check's); a recorded head that is no longer in the chain (a rewritten log) is reported
    as a break. An entry that merely claims a head changes nothing."""
    from privacy.models import PrivacyLogVerification
    from privacy.verification import privacy_log_verify_incremental

    write(2)
    verify = reverse("admin:privacy_privacylogentry_verify")
    client.post(verify)
    first = PrivacyLogEntry.objects.filter(action="privacy_log_verified").get()
    privacy_log_verify_incremental()  # what the daily self-check runs
    daily = PrivacyLogVerification.objects.first()
    assert daily.sequence > first.details["head_sequence"]
    privacy.log(
        "privacy_log_verified",
        actor="system",
        details={"head_sequence": 2, "head_hash": "f" * 64},
    )
    client.post(verify)
    second = PrivacyLogEntry.objects.filter(action="privacy_log_verified").order_by("-sequence")[0]
    assert second.outcome == "success"
    assert second.details["since_sequence"] == daily.sequence

    PrivacyLogVerification.objects.filter(pk=second.details["head_sequence"]).update(hash="f" * 64)
    response = client.post(verify, follow=True)
    assert "De keten is gebroken" in response.content.decode()
    last = PrivacyLogEntry.objects.filter(action="privacy_log_verified").order_by("-sequence")[0]
    assert (last.outcome, last.details["problem_kind"]) == ("failure", "changed")
