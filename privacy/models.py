"""The privacy log and the DPO's registers. Nothing here holds a name or a raw LeerID key.

``PrivacyLogEntry`` rows are written only by ``privacy.services.privacy_log_write`` and removed
only by ``privacy.retention.privacy_log_prune``; on PostgreSQL a trigger (migration 0002) refuses
every other UPDATE or DELETE. Their only permission is ``view``: nobody can be granted more.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy import actions


class PrivacyLogEntry(models.Model):
    class Outcome(models.TextChoices):
        SUCCESS = "success", _("gelukt")
        FAILURE = "failure", _("mislukt")

    # Gap-free, assigned under the chain lock; the primary key, so no second index to maintain.
    sequence = models.BigIntegerField(_("volgnummer"), primary_key=True)
    created_at = models.DateTimeField(_("tijdstip"))
    # "system", "staff:<user pk>" or "pupil:<pseudonym>".
    actor = models.CharField(_("actor"), max_length=80)
    # One of privacy.actions.ACTIONS; no choices here so adding an action needs no migration.
    action = models.CharField(_("actie"), max_length=40)
    # A pseudonym (64 hex), "" or a non-personal key such as "school:012345".
    subject = models.CharField(_("betrokkene"), max_length=80, blank=True)
    outcome = models.CharField(_("resultaat"), max_length=7, choices=Outcome.choices)
    reason = models.CharField(_("reden"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    request_id = models.CharField(_("request-id"), max_length=64, blank=True)
    prev_hash = models.CharField(_("vorige hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        ordering = ["-sequence"]
        default_permissions = ("view",)
        # Every index costs each write (the chain lock is held meanwhile), so only these:
        # exact lookups by pupil or staff member, action filter newest-first, date range.
        # Not db_index=True: on PostgreSQL that adds a second, LIKE index per text column.
        indexes = [
            models.Index(fields=["subject"], name="privacy_log_subject"),
            models.Index(fields=["actor"], name="privacy_log_actor"),
            models.Index(fields=["action", "sequence"], name="privacy_log_action_sequence"),
            models.Index(fields=["created_at"], name="privacy_log_created_at"),
        ]
        verbose_name = _("privacylogregel")
        verbose_name_plural = _("privacylog")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"

    @property
    def action_label(self) -> str:
        return str(actions.ACTIONS.get(self.action, self.action))


class PrivacyLogCheckpoint(models.Model):
    """Where the chain starts after pruning: the last removed entry's sequence and hash."""

    sequence = models.BigIntegerField(_("tot en met volgnummer"), primary_key=True)
    hash = models.CharField(_("hash"), max_length=64)
    pruned_at = models.DateTimeField(_("ingekort op"))
    entries_removed = models.PositiveIntegerField(_("verwijderde regels"))

    class Meta:
        ordering = ["-sequence"]
        default_permissions = ("view",)
        verbose_name = _("controlepunt van de privacylog")
        verbose_name_plural = _("controlepunten van de privacylog")

    def __str__(self) -> str:
        return f"checkpoint #{self.sequence}"


# --- Registers (protocol art. 6, 7 and 9; GDPR art. 28, 30 and 33) ------------------------------
NO_PERSONAL_DATA = _("Geen namen of andere persoonsgegevens: verwijs naar een pseudoniem.")


class Breach(models.Model):
    """A data breach (gegevenslek), from discovery to notification (protocol art. 9)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CONTAINED = "contained", _("ingeperkt")
        CLOSED = "closed", _("afgesloten")

    found_at = models.DateTimeField(_("vastgesteld op"))
    description = models.TextField(_("beschrijving"), help_text=NO_PERSONAL_DATA)
    affected_count = models.PositiveIntegerField(_("aantal betrokkenen"), default=0)
    measures = models.TextField(_("maatregelen"), blank=True)
    reported_to_authority_at = models.DateTimeField(
        _("gemeld aan de toezichthouder op"), null=True, blank=True
    )
    reported_to_dov_at = models.DateTimeField(
        _("gemeld aan het departement Onderwijs op"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-found_at"]
        verbose_name = _("gegevenslek")
        verbose_name_plural = _("gegevenslekken")

    def __str__(self) -> str:
        return f"{self.found_at:%Y-%m-%d} ({self.get_status_display()})"


class Processor(models.Model):
    """A processor (verwerker) with its agreement (protocol art. 6, GDPR art. 28)."""

    name = models.CharField(_("organisatie"), max_length=200)
    purpose = models.TextField(_("wat ze verwerken en waarom"))
    location = models.CharField(_("land of regio van verwerking"), max_length=100, blank=True)
    agreement_reference = models.CharField(
        _("verwerkersovereenkomst (referentie)"), max_length=200, blank=True
    )
    agreement_signed_on = models.DateField(_("overeenkomst getekend op"), null=True, blank=True)
    active = models.BooleanField(_("actief"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("verwerker")
        verbose_name_plural = _("verwerkers")

    def __str__(self) -> str:
        return self.name


class ProcessingActivity(models.Model):
    """One line of the register of processing activities (GDPR art. 30, protocol art. 6)."""

    name = models.CharField(_("verwerking"), max_length=200)
    purpose = models.TextField(_("doel"))
    legal_basis = models.CharField(_("rechtsgrond"), max_length=200)
    data_subjects = models.CharField(_("categorieën betrokkenen"), max_length=200)
    data_categories = models.TextField(_("categorieën persoonsgegevens"))
    recipients = models.TextField(_("ontvangers"), blank=True)
    retention = models.CharField(_("bewaartermijn"), max_length=200)
    security_measures = models.TextField(_("beveiligingsmaatregelen"), blank=True)
    processors = models.ManyToManyField(
        Processor, blank=True, related_name="activities", verbose_name=_("verwerkers")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("verwerkingsactiviteit")
        verbose_name_plural = _("verwerkingsactiviteiten")

    def __str__(self) -> str:
        return self.name


class DataQualityReport(models.Model):
    """Wrong, incomplete or outdated data found and reported to the other party (art. 7)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        REPORTED = "reported", _("gemeld")
        RESOLVED = "resolved", _("opgelost")

    found_at = models.DateTimeField(_("vastgesteld op"))
    description = models.TextField(_("beschrijving"), help_text=NO_PERSONAL_DATA)
    reported_to = models.CharField(_("gemeld aan"), max_length=200, blank=True)
    reported_at = models.DateTimeField(_("gemeld op"), null=True, blank=True)
    resolution = models.TextField(_("afhandeling"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-found_at"]
        verbose_name = _("melding over gegevenskwaliteit")
        verbose_name_plural = _("meldingen over gegevenskwaliteit")

    def __str__(self) -> str:
        return f"{self.found_at:%Y-%m-%d} ({self.get_status_display()})"


# The erasure ledger has a database of its own in production (privacy/ledger.py).
from privacy.ledger import ErasureLedgerEntry  # noqa: E402, F401
