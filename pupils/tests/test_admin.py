"""The pupils admin: Support and DPO find pupils, names only with permission and logged."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from privacy.models import PrivacyLogEntry
from privacy.pseudonyms import pseudonymize
from pupils.models import Pupil
from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims, new_key
from staff.testing import undertaking_signed

pytestmark = pytest.mark.django_db


def staff(username: str, *, groups=(), permissions=()):
    user = get_user_model().objects.create_user(
        username=username, password="a-long-test-password", is_staff=True
    )
    undertaking_signed(user)  # Support and DPO need a confidentiality undertaking first
    user.groups.set(Group.objects.filter(name__in=groups))
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def pupil() -> Pupil:
    claims = leerid_claims(leer_id_uuid=new_key(), historiek=(new_key(),))
    pupil = pupil_record_login(claims=claims, granted_schools={"012345"})
    pupil.claims = claims
    return pupil


@pytest.fixture
def support(client):
    client.force_login(staff("sam-support", groups=["Support"]))
    return client


@pytest.fixture
def dpo(client):
    client.force_login(staff("dana-dpo", groups=["DPO"]))
    return client


def change_url(pupil: Pupil) -> str:
    return reverse("admin:pupils_pupil_change", args=[pupil.pk])


def test_it_lists_pupils_by_pseudonym_without_names(support, pupil):
    """The list shows the short pseudonym and kind, never a name."""
    response = support.get(reverse("admin:pupils_pupil_changelist"))
    assert response.status_code == 200
    content = response.content.decode()
    assert pupil.pseudonym[:12] in content
    assert "Voorbeeldig" not in content
    assert not PrivacyLogEntry.objects.filter(action="sensitive_read").exists()


def test_it_shows_support_the_names_and_logs_the_view(support, pupil):
    """Opening a pupil shows the snapshot to Support, and the view is in the privacy log."""
    response = support.get(change_url(pupil))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Voorbeeldig" in content
    entry = PrivacyLogEntry.objects.get(action="sensitive_read")
    assert entry.subject == pupil.pseudonym
    assert entry.actor.startswith("staff:")
    assert entry.details == {"page": "admin:pupils_pupil_change"}


@pytest.mark.parametrize("group", ["Support", "DPO"])
def test_it_shows_keys_only_as_fingerprints(client, pupil, group):
    """The detail page shows the start of each key's pseudonym, never a key in any spelling."""
    client.force_login(staff(f"{group.lower()}-viewer", groups=[group]))
    content = client.get(change_url(pupil)).content.decode().lower()
    claims = pupil.claims
    for key in (claims.leer_id_uuid, claims.account_uuid, *claims.historiek_account_uuids):
        assert key not in content
        assert key.replace("-", "") not in content
        assert pseudonymize(key)[:12] in content


def test_it_hides_names_without_the_snapshot_permission(client, pupil):
    """Staff who may view pupils but not snapshots see no names and cause no log entry."""
    client.force_login(staff("vic-viewer", permissions=["view_pupil"]))
    response = client.get(change_url(pupil))
    assert response.status_code == 200
    assert "Voorbeeldig" not in response.content.decode()
    assert not PrivacyLogEntry.objects.filter(action="sensitive_read").exists()


def test_it_keeps_agreements_staff_away_from_pupils(client, pupil):
    """The Agreements group has no pupil permission at all."""
    client.force_login(staff("alex-agreements", groups=["Agreements"]))
    assert client.get(reverse("admin:pupils_pupil_changelist")).status_code == 403
    assert client.get(change_url(pupil)).status_code == 403


@pytest.mark.parametrize("which", ["leerid", "account", "historiek", "pseudonym", "prefix"])
def test_it_finds_a_pupil_by_key_or_pseudonym(support, pupil, which):
    """A typed LeerID key, account key, old account key or pseudonym leads to the pupil."""
    typed = {
        "leerid": pupil.claims.leer_id_uuid.upper(),
        "account": pupil.claims.account_uuid,
        "historiek": pupil.claims.historiek_account_uuids[0].replace("-", ""),
        "pseudonym": pupil.pseudonym,
        "prefix": pupil.pseudonym[:12],
    }[which]
    response = support.post(reverse("admin:pupils_pupil_find"), {"key": typed})
    assert response.status_code == 302
    assert response["Location"] == change_url(pupil)


def test_it_says_so_when_no_pupil_matches(support, pupil):
    """An unknown key goes back to the list with a message, showing nothing."""
    response = support.post(reverse("admin:pupils_pupil_find"), {"key": new_key()}, follow=True)
    assert "Geen leerling gevonden" in response.content.decode()


def test_it_finds_only_by_post(support):
    """A key must never travel in a URL: the find view refuses GET."""
    assert support.get(reverse("admin:pupils_pupil_find"), {"key": new_key()}).status_code == 405


def test_it_lets_the_dpo_export_a_pupil_from_its_page_with_a_reference(dpo, pupil):
    """The pupil's page has an export button; the export asks for the request's reference,
    holds the snapshot and aliases, and is logged as sensitive_export with that reference."""
    page = dpo.get(change_url(pupil)).content.decode()
    export_url = reverse("admin:pupils_pupil_export", args=[pupil.pk])
    assert export_url in page
    assert "Referentie van het verzoek" in dpo.get(export_url).content.decode()
    response = dpo.post(export_url, {"reference": "DPO-2026-014"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data["pseudonym"] == pupil.pseudonym
    assert data["identity_snapshot"]["family_name"] == "Voorbeeldig"
    assert pseudonymize(pupil.claims.account_uuid) in data["account_aliases"]
    entry = PrivacyLogEntry.objects.get(action="sensitive_export")
    assert entry.subject == pupil.pseudonym
    assert entry.details == {"reference": "DPO-2026-014"}


def test_it_exports_nothing_without_a_reference(dpo, pupil):
    """No reference (or a key typed as one): the form again, nothing exported or logged."""
    export_url = reverse("admin:pupils_pupil_export", args=[pupil.pk])
    for reference in ("", new_key()):
        response = dpo.post(export_url, {"reference": reference})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
    assert not PrivacyLogEntry.objects.filter(action="sensitive_export").exists()


def test_it_does_not_let_support_export(support, pupil):
    """Support sees no export button; posting anyway is refused and exports nothing."""
    export_url = reverse("admin:pupils_pupil_export", args=[pupil.pk])
    assert export_url not in support.get(change_url(pupil)).content.decode()
    response = support.post(export_url, {"reference": "DPO-1"})
    assert response.status_code == 403
    assert not PrivacyLogEntry.objects.filter(action="sensitive_export").exists()


def test_it_lists_what_an_erasure_removes(dpo, pupil):
    """The confirmation names the pupil, snapshot, aliases, user and sessions."""
    content = dpo.get(reverse("admin:pupils_pupil_erase", args=[pupil.pk])).content.decode()
    assert pupil.pseudonym[:12] in content
    assert "momentopname" in content
    assert "2 account-aliassen" in content
    assert pupil.user.get_username() in content
    assert "sessies" in content
    assert Pupil.objects.filter(pk=pupil.pk).exists()


def test_it_lets_the_dpo_erase_a_pupil_with_its_user(dpo, pupil):
    """Erasure deletes the pupil, its snapshot, aliases and user, is logged with the request's
    reference, and lands back on the list with a message."""
    response = dpo.post(
        reverse("admin:pupils_pupil_erase", args=[pupil.pk]), {"reference": "DPO-2026-015"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:pupils_pupil_changelist")
    assert not Pupil.objects.exists()
    assert not get_user_model().objects.filter(pk=pupil.user_id).exists()
    entry = PrivacyLogEntry.objects.get(action="sensitive_delete")
    assert entry.subject == pupil.pseudonym
    assert entry.details == {"reference": "DPO-2026-015"}
    listing = dpo.get(response["Location"]).content.decode()
    assert "is gewist (verzoek DPO-2026-015)" in listing


def test_it_has_no_bulk_erase(dpo, pupil):
    """Neither the delete action on the list nor the admin's own delete page exists."""
    listing = dpo.get(reverse("admin:pupils_pupil_changelist"))
    assert "delete_selected" not in listing.content.decode()
    dpo.post(
        reverse("admin:pupils_pupil_changelist"),
        {"action": "delete_selected", "_selected_action": [pupil.pk], "post": "yes"},
    )
    assert dpo.get(reverse("admin:pupils_pupil_delete", args=[pupil.pk])).status_code == 403
    assert Pupil.objects.filter(pk=pupil.pk).exists()


def test_it_leaves_no_admin_log_row_about_an_erased_pupil(dpo, pupil):
    """Erasing writes no django_admin_log row (the privacy log has it, by pseudonym), and the
    rows an older version wrote about the pupil and its user go with the account."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    def about(obj, repr_):
        return LogEntry.objects.create(
            user=get_user_model().objects.get(username="dana-dpo"),
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=repr_,
            action_flag=CHANGE,
        )

    about(pupil, f"leerling {pupil.pseudonym[:12]}")
    about(pupil.user, pupil.user.username)
    dpo.post(reverse("admin:pupils_pupil_erase", args=[pupil.pk]), {"reference": "DPO-2026-016"})
    assert not Pupil.objects.exists()
    assert not LogEntry.objects.filter(object_repr__contains=pupil.pseudonym[:12]).exists()
    assert not LogEntry.objects.exists()


def test_it_does_not_let_support_erase(support, pupil):
    """Support cannot erase pupils."""
    response = support.post(
        reverse("admin:pupils_pupil_erase", args=[pupil.pk]), {"reference": "X-1"}
    )
    assert response.status_code == 403
    assert Pupil.objects.filter(pk=pupil.pk).exists()


def test_it_finds_a_pupil_by_public_id(support, pupil):
    """The front end's public id, typed into the find form, leads to the pupil's page."""
    response = support.post(reverse("admin:pupils_pupil_find"), {"key": str(pupil.public_id)})
    assert response["Location"] == change_url(pupil)


def test_it_finds_pupils_by_school(support, pupil):
    """?q= with a school number lists the pupils enrolled there at their last login."""
    other = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=new_key(), enrollments=("047001",)),
        granted_schools={"047001"},
    )
    url = reverse("admin:pupils_pupil_changelist")
    found = support.get(url, {"q": "12345"}).context["cl"].result_list
    assert list(found) == [pupil]
    found = support.get(url, {"q": "047001"}).context["cl"].result_list
    assert list(found) == [other]


def test_its_get_search_box_takes_school_numbers_only(support, pupil):
    """The GET box (its term is in the URL) lets the browser send digits only: a key pasted
    there by mistake is stopped before it reaches a URL. Keys go to the POST form above it."""
    html = support.get(reverse("admin:pupils_pupil_changelist"), {"q": "12345"}).content.decode()
    forms = re.findall(r"(<form[^>]*>)(.*?)</form>", html, re.S)
    (get_form,) = [body for tag, body in forms if 'method="get"' in tag and 'name="q"' in body]
    assert 'pattern="[0-9]{1,6}"' in get_form and 'value="12345"' in get_form
    assert [tag for tag, body in forms if 'method="post"' in tag and 'name="key"' in body]


def test_it_never_lets_a_pupil_into_the_admin(client, pupil):
    """A pupil's own user is not staff: the admin sends it to the staff login."""
    client.force_login(pupil.user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_it_leaves_pupils_out_of_the_user_list(client, pupil):
    """The staff user list does not show pupils' accounts."""
    admin_user = get_user_model().objects.create_superuser("root-admin", password="x" * 16)
    client.force_login(admin_user)
    content = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "root-admin" in content
    assert pupil.user.username not in content
