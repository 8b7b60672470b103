"""The privacy log and the DPO's registers. Nothing here holds a name or a raw LeerID key.

Privacy-log rows (``PrivacyLogRecord``) are written only by ``privacy.services`` and removed only
by ``privacy.retention.privacy_log_prune``; on PostgreSQL a trigger (migration 0006) refuses every
other UPDATE or DELETE. ``PrivacyLogEntry`` reads them as text; its only permission is ``view``:
nobody can be granted more.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy import actions


class PrivacyLogEntry(models.Model):
    """One entry as text, read through the view ``privacy_privacylogentry`` (migration 0006).

    The rows themselves are ``PrivacyLogRecord``s in compact form (``privacy/storage.py``); this
    model is for reading only. The ``*_code`` and ``failed`` fields are the stored columns the
    indexes cover: filters that must stay fast at scale use them (``privacy.selectors``).
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("gelukt")
        FAILURE = "failure", _("mislukt")

    sequence = models.BigIntegerField(_("volgnummer"), primary_key=True)
    created_at = models.DateTimeField(_("tijdstip"))
    # "system", "staff:<user pk>" or "pupil:<pseudonym>".
    actor = models.CharField(_("actor"), max_length=80)
    # One of privacy.actions.ACTIONS.
    action = models.CharField(_("actie"), max_length=40)
    # A pseudonym (64 hex), "" or a non-personal key such as "school:012345".
    subject = models.CharField(_("betrokkene"), max_length=80, blank=True)
    outcome = models.CharField(_("resultaat"), max_length=7, choices=Outcome.choices)
    reason = models.CharField(_("reden"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    request_id = models.CharField(_("request-id"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64)
    actor_code = models.IntegerField(db_column="actor_id")
    subject_code = models.IntegerField(db_column="subject_id")
    action_code = models.IntegerField(db_column="action_id")
    failed = models.BooleanField()
    period = models.SmallIntegerField()
    request_id_raw = models.BinaryField()

    class Meta:
        managed = False
        db_table = "privacy_privacylogentry"
        ordering = ["-sequence"]
        default_permissions = ("view",)
        verbose_name = _("privacylogregel")
        verbose_name_plural = _("privacylog")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"

    @property
    def action_label(self) -> str:
        return str(actions.ACTIONS.get(self.action, self.action))


class PrivacyLogRecord(models.Model):
    """A stored entry (``privacy/storage.py`` says what each column holds).

    Written only by ``privacy_log_append`` and the sealer, removed only by pruning; the table
    and its partitions, indexes and triggers are made by migration 0006's SQL, not by Django.
    """

    sequence = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField()
    actor_id = models.IntegerField()
    subject_id = models.IntegerField()
    action_id = models.IntegerField()
    period = models.SmallIntegerField()
    failed = models.BooleanField()
    reason = models.TextField()
    request_id = models.BinaryField()
    details = models.TextField()
    hash = models.BinaryField()

    class Meta:
        db_table = "privacy_log"
        default_permissions = ()

    def __str__(self) -> str:
        return f"#{self.sequence}"


class PrivacyLogText(models.Model):
    """The dictionary of actors, subjects and actions the log's rows point to."""

    id = models.AutoField(primary_key=True)
    value = models.TextField(unique=True)

    class Meta:
        db_table = "privacy_log_text"
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.id}"


class PrivacyLogHead(models.Model):
    """One row: the newest entry's sequence, hash and period, kept by the writers."""

    id = models.SmallIntegerField(primary_key=True)
    sequence = models.BigIntegerField()
    hash = models.BinaryField()
    period = models.SmallIntegerField()

    class Meta:
        db_table = "privacy_log_head"
        default_permissions = ()

    def __str__(self) -> str:
        return f"head #{self.sequence}"


class PrivacyLogVerification(models.Model):
    """A head the verifier found whole: the next daily check starts here."""

    sequence = models.BigIntegerField(_("tot en met volgnummer"), primary_key=True)
    hash = models.CharField(_("hash"), max_length=64)
    verified_at = models.DateTimeField(_("geverifieerd op"))
    entries = models.BigIntegerField(_("geverifieerde regels"))
    full = models.BooleanField(_("volledig"), default=False)

    class Meta:
        ordering = ["-sequence"]
        default_permissions = ("view",)
        verbose_name = _("verificatie van de privacylog")
        verbose_name_plural = _("verificaties van de privacylog")

    def __str__(self) -> str:
        return f"verified #{self.sequence}"


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
