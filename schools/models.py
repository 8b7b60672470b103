"""Schools (by instellingsnummer) and the agreements that let their pupils in.

A pupil gets in only through a school with an agreement *in force*: status active and the day
within ``valid_from`` .. ``valid_until`` (inclusive; an empty end date is open-ended). See
``schools.access`` for the one query the login path asks.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from schools.dates import day_text
from schools.numbers import INSTELLINGSNUMMER_PATTERN, validate_instellingsnummer


class School(models.Model):
    class EducationLevel(models.TextChoices):
        BASIC = "basic", _("basisonderwijs")
        SECONDARY = "secondary", _("secundair onderwijs")
        SPECIAL_BASIC = "special_basic", _("buitengewoon basisonderwijs")
        SPECIAL_SECONDARY = "special_secondary", _("buitengewoon secundair onderwijs")
        OTHER = "other", _("andere")

    instellingsnummer = models.CharField(
        _("instellingsnummer"),
        max_length=6,
        unique=True,
        validators=[validate_instellingsnummer],
        help_text=_("Zes cijfers, toegekend door AgODi; voorloopnullen horen erbij (012345)."),
    )
    name = models.CharField(_("naam"), max_length=200)
    town = models.CharField(_("gemeente"), max_length=100, blank=True)
    education_level = models.CharField(
        _("onderwijsniveau"), max_length=20, choices=EducationLevel.choices, blank=True
    )
    # A functional address (secretariaat@...) is enough; no personal data is needed here.
    contact = models.CharField(
        _("contact"),
        max_length=200,
        blank=True,
        help_text=_("Bij voorkeur een functioneel e-mailadres of telefoonnummer."),
    )
    created_at = models.DateTimeField(_("aangemaakt op"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd op"), auto_now=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("scholen")
        ordering = ["instellingsnummer"]
        constraints = [
            models.CheckConstraint(
                condition=Q(instellingsnummer__regex=INSTELLINGSNUMMER_PATTERN),
                name="school_instellingsnummer_six_digits",
                violation_error_message=_("Een instellingsnummer heeft precies 6 cijfers."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instellingsnummer} {self.name}"

    @property
    def subject(self) -> str:
        """The non-personal key under which changes go to the privacy log."""
        return f"school:{self.instellingsnummer}"


class Agreement(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("actief")
        SUSPENDED = "suspended", _("opgeschort")

    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    valid_from = models.DateField(_("geldig vanaf"))
    valid_until = models.DateField(
        _("geldig tot en met"),
        null=True,
        blank=True,
        help_text=_("Leeg laten voor een overeenkomst zonder einddatum."),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.ACTIVE,
        help_text=_("Opschorten sluit de leerlingen van deze school uit zonder iets te wissen."),
    )
    contract_reference = models.CharField(
        _("contractreferentie"),
        max_length=200,
        blank=True,
        help_text=_("Waar de ondertekende overeenkomst te vinden is (nummer, map of link)."),
    )
    notes = models.TextField(_("notities"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("aangemaakt door"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("gewijzigd door"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("aangemaakt op"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd op"), auto_now=True)

    class Meta:
        verbose_name = _("overeenkomst")
        verbose_name_plural = _("overeenkomsten")
        ordering = ["school__instellingsnummer", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="agreement_valid_until_not_before_valid_from",
                violation_error_message=_("De einddatum ligt vóór de begindatum."),
            ),
            # The import finds an agreement by school and start date, so that pair is unique.
            models.UniqueConstraint(
                fields=["school", "valid_from"],
                name="agreement_unique_school_valid_from",
                violation_error_message=_(
                    "Deze school heeft al een overeenkomst met deze begindatum."
                ),
            ),
        ]

    def __str__(self) -> str:
        number = self.school.instellingsnummer if self.school_id else "?"
        return f"{number}: {day_text(self.valid_from)} - {day_text(self.valid_until)}"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError(
                {
                    "valid_until": ValidationError(
                        _("De einddatum (%(until)s) ligt vóór de begindatum (%(start)s)."),
                        code="ends_before_start",
                        params={
                            "until": day_text(self.valid_until),
                            "start": day_text(self.valid_from),
                        },
                    )
                }
            )
