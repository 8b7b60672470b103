"""Personal-data groups need a confidentiality undertaking; every change of rights is logged;
a staff member without a role is refused at the next request."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.urls import reverse

from privacy import actions
from staff.exceptions import UndertakingMissing
from staff.models import StaffProfile
from staff.services import staff_undertaking_record
from staff.testing import undertaking_signed
from staff.tests.conftest import LOGIN, entries, make_staff, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]


def group(name: str) -> Group:
    return Group.objects.get(name=name)


@pytest.mark.parametrize("name", ["Support", "DPO"])
def test_it_refuses_a_personal_data_group_without_an_undertaking(name):
    """Support and DPO need the undertaking date first, however the group is given."""
    user = make_staff("new-hire", device=False)
    with pytest.raises(UndertakingMissing), transaction.atomic():
        user.groups.add(group(name))
    with pytest.raises(UndertakingMissing), transaction.atomic():
        group(name).user_set.add(user)
    assert not user.groups.exists()
    undertaking_signed(user)
    user.groups.add(group(name))
    assert list(user.groups.values_list("name", flat=True)) == [name]


def test_it_allows_the_agreements_group_without_an_undertaking():
    """Agreements sees no personal data: no undertaking needed."""
    user = make_staff("new-hire", device=False)
    user.groups.add(group("Agreements"))
    assert user.groups.count() == 1


def test_it_refuses_a_personal_data_permission_without_an_undertaking():
    """A permission that shows names, given directly, needs the undertaking too."""
    user = make_staff("new-hire", device=False)
    permission = Permission.objects.get(codename="view_identitysnapshot")
    with pytest.raises(UndertakingMissing), transaction.atomic():
        user.user_permissions.add(permission)


def test_it_refuses_to_clear_the_undertaking_of_a_member(support):
    """The date cannot be removed while the account is in a personal-data group."""
    with pytest.raises(UndertakingMissing), transaction.atomic():
        staff_undertaking_record(user=support, signed_on=None)


def test_it_refuses_the_group_in_the_admin_with_the_reason(client, db):
    """The user form says why the group was refused and changes nothing."""
    root = get_user_model().objects.create_superuser("root", password="a-long-staff-password-1")
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=root, name="authenticator", confirmed=True)
    sign_in(client, root)
    target = make_staff("new-hire", device=False)
    url = reverse("admin:auth_user_change", args=[target.pk])
    form = client.get(url).context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and key not in ("groups", "user_permissions", "password")
    }
    data.update(
        {
            "groups": [group("Support").pk],
            "date_joined_0": "2026-09-01",
            "date_joined_1": "08:00:00",
            "last_login_0": "",
            "last_login_1": "",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert "vertrouwelijkheidsverklaring" in response.content.decode()
    assert not target.groups.exists()
    data["undertaking_signed_on"] = "2026-09-01"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(target.groups.values_list("name", flat=True)) == ["Support"]
    change = entries(actions.AUTHZ_CHANGE, subject=f"staff:{target.pk}")
    assert {"groups_added": ["Support"]} in [e.details for e in change]
    assert any("undertaking_signed_on" in e.details for e in change)
    assert all(e.actor == f"staff:{root.pk}" for e in change[-2:])
    # Out of Support and the date cleared in one save: allowed, both recorded, no error page.
    data.update({"groups": [], "undertaking_signed_on": ""})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not target.groups.exists()
    assert StaffProfile.objects.get(user=target).undertaking_signed_on is None


def test_it_logs_every_change_of_groups_permissions_and_flags():
    """Groups and permissions added/removed/cleared, is_staff and is_superuser: who, whose, what."""
    user = make_staff("new-hire", device=False)
    undertaking_signed(user)
    user.groups.add(group("Support"))
    group("DPO").user_set.add(user)
    user.groups.remove(group("Support"))
    user.groups.clear()
    user.user_permissions.add(Permission.objects.get(codename="view_school"))
    user.is_superuser = True
    user.save()
    details = [e.details for e in entries(actions.AUTHZ_CHANGE, subject=f"staff:{user.pk}")]
    assert details == [
        {"is_staff": [False, True]},
        {"groups_added": ["Support"]},
        {"groups_added": ["DPO"]},
        {"groups_removed": ["Support"]},
        {"groups_removed": ["DPO"]},
        {"permissions_added": ["schools.view_school"]},
        {"is_superuser": [False, True]},
    ]
    assert {e.actor for e in entries(actions.AUTHZ_CHANGE)} == {"system"}


def test_it_does_not_log_a_last_login_update(support):
    """Saving only last_login (every sign-in) is no change of rights."""
    before = len(entries(actions.AUTHZ_CHANGE))
    support.last_login = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    support.save(update_fields=["last_login"])
    assert len(entries(actions.AUTHZ_CHANGE)) == before


def test_it_refuses_the_next_request_of_staff_removed_from_all_groups(client, support):
    """Mid-session, the last group goes: the next request is refused, signed out, logged."""
    sign_in(client, support)
    assert client.get(reverse("admin:pupils_pupil_changelist")).status_code == 200
    support.groups.clear()
    response = client.get(reverse("admin:pupils_pupil_changelist"), follow=True)
    assert response.status_code == 403
    assert "geen rol" in response.content.decode()
    assert response.redirect_chain[0][0].startswith(LOGIN)
    [refusal] = entries(actions.AUTHZ_FAIL)
    assert (refusal.subject, refusal.reason) == (f"staff:{support.pk}", "no_role")
    assert entries(actions.AUTHN_LOGOUT)[-1].reason == "no_role"
    assert not client.session.get("_auth_user_id")
