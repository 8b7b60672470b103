"""Staff accounts: the confidentiality undertaking, sign-in failures and lockouts.

Failures and lockouts hold no typed username and no IP address in clear: an account is
``staff:<pk>`` (or ``unknown_account:<keyed hash>`` for a name that matches no account), an
address its keyed hash (``privacy.pseudonyms.pseudonymize``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_profile",
        verbose_name=_("account"),
    )
    undertaking_signed_on = models.DateField(
        _("vertrouwelijkheidsverklaring getekend op"),
        null=True,
        blank=True,
        help_text=_(
            "Protocol artikel 6: pas na deze datum mag het account in een groep die "
            "persoonsgegevens ziet (Support, DPO)."
        ),
    )

    class Meta:
        verbose_name = _("medewerkersprofiel")
        verbose_name_plural = _("medewerkersprofielen")
        permissions = [
            ("view_access_review", _("kan het toegangsoverzicht van medewerkers bekijken")),
            ("reset_second_factor", _("kan de tweede factor van een medewerker resetten")),
            ("unlock_signin", _("kan een geblokkeerde aanmelding vrijgeven")),
        ]

    def __str__(self) -> str:
        return f"staff:{self.user_id}"


class SignInFailure(models.Model):
    class Stage(models.TextChoices):
        PASSWORD = "password", _("wachtwoord")
        SECOND_FACTOR = "second_factor", _("tweede factor")

    at = models.DateTimeField(_("tijdstip"), db_index=True)
    account_key = models.CharField(_("account"), max_length=90, db_index=True)
    address_key = models.CharField(_("adres (gehasht)"), max_length=64, db_index=True)
    stage = models.CharField(_("stap"), max_length=16, choices=Stage.choices)

    class Meta:
        verbose_name = _("mislukte aanmelding")
        verbose_name_plural = _("mislukte aanmeldingen")

    def __str__(self) -> str:
        return f"{self.account_key} {self.at:%Y-%m-%d %H:%M}"


class Lockout(models.Model):
    class Scope(models.TextChoices):
        ACCOUNT = "account", _("account")
        ADDRESS = "address", _("adres")

    scope = models.CharField(_("soort"), max_length=8, choices=Scope.choices)
    key = models.CharField(_("sleutel"), max_length=90, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
    )
    locked_at = models.DateTimeField(_("geblokkeerd op"))
    until = models.DateTimeField(_("geblokkeerd tot"))
    lifted_at = models.DateTimeField(_("vrijgegeven op"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("vrijgegeven door"),
    )

    class Meta:
        verbose_name = _("blokkering")
        verbose_name_plural = _("blokkeringen")
        ordering = ["-locked_at"]

    def __str__(self) -> str:
        return f"{self.key} {self.locked_at:%Y-%m-%d %H:%M}"
