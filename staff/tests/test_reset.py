"""The DPO resets a staff member's second factor: logged; they must enrol again."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from privacy import actions
from staff.tests.conftest import ENROL, entries, sign_in, sign_in_password

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]


def test_it_lets_the_dpo_reset_a_second_factor(support, dpo):
    """The reset removes the devices, is logged, and the next sign-in leads to enrolment."""
    support_client, dpo_client = Client(), Client(REMOTE_ADDR="127.0.0.2")
    sign_in(support_client, support)
    sign_in(dpo_client, dpo)
    response = dpo_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [support.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=support).exists()
    [removed] = entries(actions.STAFF_DEVICE_REMOVED)
    assert (removed.actor, removed.subject) == (f"staff:{dpo.pk}", f"staff:{support.pk}")
    # The open session of the staff member is no longer verified: the admin is shut.
    assert support_client.get(reverse("admin:index")).status_code == 302
    support_client.post(reverse("admin:staff_sign_out"))
    assert sign_in_password(support_client, support.username)["Location"] == ENROL


def test_it_offers_the_reset_to_the_dpo_only(client, support):
    """Support sees no user list (no permission), so no reset either."""
    sign_in(client, support)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
