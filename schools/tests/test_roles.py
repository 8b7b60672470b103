from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from ilearn_auth.roles import AGREEMENTS, DPO, PERMISSIONS, SUPPORT, roles_sync

pytestmark = pytest.mark.django_db


def granted(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_it_creates_the_groups_with_exactly_their_permissions_after_migrate():
    """After migrate each group has exactly the permissions of the matrix."""
    for name in (DPO, AGREEMENTS, SUPPORT):
        assert granted(name) == set(PERMISSIONS[name])


def test_it_lists_only_permissions_that_exist():
    """Every permission in the matrix exists, so none is silently skipped."""
    existing = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }
    listed = {codename for codenames in PERMISSIONS.values() for codename in codenames}
    assert listed - existing == set()


def test_it_is_idempotent_and_undoes_hand_made_grants():
    """A second sync changes nothing; a permission granted by hand is taken away again."""
    group = Group.objects.get(name=AGREEMENTS)
    group.permissions.add(Permission.objects.get(codename="delete_school"))
    Group.objects.get(name=SUPPORT).delete()
    roles_sync()
    roles_sync()
    assert Group.objects.filter(name__in=[DPO, AGREEMENTS, SUPPORT]).count() == 3
    assert granted(AGREEMENTS) == set(PERMISSIONS[AGREEMENTS])
    assert granted(SUPPORT) == set(PERMISSIONS[SUPPORT])


def test_it_keeps_the_agreements_group_away_from_personal_data():
    """Agreements staff get only schools permissions."""
    assert {codename.split(".")[0] for codename in PERMISSIONS[AGREEMENTS]} == {"schools"}


def test_it_gives_support_and_dpo_no_write_access_to_agreements():
    """Only the Agreements group may change schools and agreements."""
    for name in (DPO, SUPPORT):
        assert not {p for p in PERMISSIONS[name] if p.startswith("schools.")} - {
            "schools.view_school",
            "schools.view_agreement",
        }


def test_it_restores_the_groups_after_a_flush(transactional_db):
    """``flush`` (as transactional tests do) empties auth; the post_migrate sync brings it back."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    for name in (DPO, AGREEMENTS, SUPPORT):
        assert granted(name) == set(PERMISSIONS[name])
