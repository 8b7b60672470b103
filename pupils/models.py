"""Pupils, as pseudonymous accounts, and the personal data of their last login.

``Pupil`` holds no cleartext identifier: it is found by a keyed hash of a LeerID key.
``IdentitySnapshot`` is the only place personal data lives; it is replaced at each login and
deleted by the 1-year rule, while the ``Pupil`` stays until the 3-year rule removes it.
Everything a pupil owns hangs on it with ``on_delete=CASCADE``, so deleting the pupil (or its
Django user) removes all of it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pupils.fields import EncryptedJSONField, EncryptedTextField


class Pupil(models.Model):
    class Kind(models.TextChoices):
        IDENTIFIED = "identified", _("geïdentificeerd (met LeerID-sleutel)")
        TEMPORARY = "temporary", _("tijdelijk (enkel account-sleutel)")

    # Given to i-Learn's front end: stable, random, never a LeerID key.
    public_id = models.UUIDField(_("publieke id"), default=uuid.uuid4, unique=True, editable=False)
    # HMAC of leer_id_uuid (identified) or of account_uuid (temporary); see privacy.pseudonyms.
    pseudonym = models.CharField(_("pseudoniem"), max_length=64, unique=True)
    kind = models.CharField(_("soort account"), max_length=16, choices=Kind.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pupil"
    )
    created_at = models.DateTimeField(_("aangemaakt op"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("laatste aanmelding"), db_index=True)

    class Meta:
        verbose_name = _("leerling")
        verbose_name_plural = _("leerlingen")
        # The DPO hands a pupil their data (GDPR art. 15/20); each export is logged.
        permissions = [("export_pupil", _("Kan de gegevens van een leerling exporteren"))]

    def __str__(self) -> str:
        return f"{_('leerling')} {self.pseudonym[:12]}"


class IdentitySnapshot(models.Model):
    """What LeerID told us at the last login, as the protocol lists it. One per pupil."""

    pupil = models.OneToOneField(
        Pupil, on_delete=models.CASCADE, primary_key=True, related_name="snapshot"
    )
    # Names and keys are encrypted at rest (FIELD_ENCRYPTION_KEYS): a backup or a dump holds
    # no LeerID or account key in clear. Lookups never read them: they go by pseudonym.
    family_name = EncryptedTextField()
    given_name = EncryptedTextField()
    leer_id_uuid = EncryptedTextField(null=True, blank=True)
    account_uuid = EncryptedTextField()
    historiek_account_uuids = EncryptedJSONField(default=list, blank=True)
    # Instellingsnummers as six-digit strings, as LeerID sent them after normalising.
    enrollments = models.JSONField(default=list, blank=True)
    # Schools through which access was granted at that login (a subset of ``enrollments``).
    granted_schools = models.JSONField(default=list, blank=True)
    login_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("identiteitsmomentopname")
        verbose_name_plural = _("identiteitsmomentopnames")

    def __str__(self) -> str:
        return f"{_('momentopname van')} {self.pupil}"


class AccountAlias(models.Model):
    """An SSO account key (current or historical) known to belong to a pupil, as a pseudonym."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="aliases")
    pseudonym = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("account-alias")
        verbose_name_plural = _("account-aliassen")

    def __str__(self) -> str:
        return f"{_('alias')} {self.pseudonym[:12]}"
