"""A superuser's view of a pupil's personal data is logged like anyone's."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from privacy import actions
from privacy.models import PrivacyLogEntry
from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims, new_key

pytestmark = pytest.mark.django_db


def test_it_logs_a_superusers_view_of_a_pupils_names(client):
    """Superusers are for setting up: what they see of pupils is in the privacy log too."""
    pupil = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=new_key()), granted_schools={"012345"}
    )
    root = get_user_model().objects.create_superuser("root", password="a-long-password-123")
    client.force_login(root)  # both factors (conftest.py)
    response = client.get(reverse("admin:pupils_pupil_change", args=[pupil.pk]))
    assert response.status_code == 200
    [read] = PrivacyLogEntry.objects.filter(action=actions.SENSITIVE_READ)
    assert (read.actor, read.subject) == (f"staff:{root.pk}", pupil.pseudonym)
