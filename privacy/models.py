"""The privacy log and the DPO's registers. Nothing here holds a name or a raw LeerID key.

Privacy-log rows (``PrivacyLogRecord``) are written only by ``privacy.services`` and removed only
by ``privacy.pruning.privacy_log_prune``; on PostgreSQL a trigger (migration 0009) refuses every
other UPDATE or DELETE. ``PrivacyLogEntry`` reads them as text; its only permission is ``view``:
nobody can be granted more.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy import actions, registers


class PrivacyLogEntry(models.Model):
    """One entry as text, read through the view ``privacy_privacylogentry`` (migration 0009).

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
    and its partitions, indexes and triggers are made by migration 0009's SQL, not by Django.
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
    """A data breach (gegevenslek), from discovery to notification (GDPR art. 33/34, protocol
    art. 9).

    The supervisory authority must be told within 72 hours of discovery (``deadline``) unless the
    breach is unlikely to result in a risk; DOV's DPO without undue delay. ``overdue_at`` is set
    by the daily check (``dpo.services.breaches_mark_overdue``), which also mails the DPO.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CONTAINED = "contained", _("ingeperkt")
        CLOSED = "closed", _("afgesloten")

    class TellPupils(models.TextChoices):
        UNDECIDED = "undecided", _("nog niet beslist")
        YES = "yes", _("ja, de leerlingen worden ingelicht")
        NO = "no", _("nee (reden hieronder)")

    found_at = models.DateTimeField(_("vastgesteld op"))
    description = models.TextField(_("beschrijving"), help_text=NO_PERSONAL_DATA)
    # GDPR art. 33(3): the content of the notification.
    nature = models.TextField(_("aard van het lek"), blank=True)
    pupil_categories = models.CharField(
        _("categorieën betrokken leerlingen"), max_length=200, blank=True
    )
    affected_count = models.PositiveIntegerField(
        _("aantal betrokken leerlingen (bij benadering)"), default=0
    )
    record_categories = models.CharField(
        _("categorieën betrokken gegevens"), max_length=200, blank=True
    )
    records_count = models.PositiveIntegerField(
        _("aantal betrokken gegevensrecords (bij benadering)"), null=True, blank=True
    )
    consequences = models.TextField(_("waarschijnlijke gevolgen"), blank=True)
    measures = models.TextField(_("genomen of voorgestelde maatregelen"), blank=True)
    authority_notification_required = models.BooleanField(
        _("melden aan de toezichthouder"),
        default=True,
        help_text=_(
            "Uit te vinken alleen als het lek waarschijnlijk geen risico inhoudt voor de "
            "leerlingen (AVG art. 33.1); leg uit waarom in de beschrijving."
        ),
    )
    reported_to_authority_at = models.DateTimeField(
        _("gemeld aan de toezichthouder op"), null=True, blank=True
    )
    reported_to_dov_at = models.DateTimeField(
        _("DPO van het departement Onderwijs ingelicht op"),
        null=True,
        blank=True,
        help_text=_("Protocol art. 9: zonder onredelijke vertraging."),
    )
    # GDPR art. 34: tell the pupils or not, and why.
    tell_pupils = models.CharField(
        _("leerlingen inlichten"),
        max_length=16,
        choices=TellPupils.choices,
        default=TellPupils.UNDECIDED,
    )
    tell_pupils_reason = models.TextField(_("waarom (niet) inlichten"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    overdue_at = models.DateTimeField(
        _("termijn overschreden vastgesteld op"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-found_at"]
        verbose_name = _("gegevenslek")
        verbose_name_plural = _("gegevenslekken")

    def __str__(self) -> str:
        return f"{self.found_at:%Y-%m-%d} ({self.get_status_display()})"

    def clean(self) -> None:
        registers.breach_problems(self)

    @property
    def deadline(self):
        return registers.breach_deadline(self.found_at)

    def is_overdue(self, now=None) -> bool:
        return registers.breach_is_overdue(self, now)


class Processor(models.Model):
    """A processor (verwerker) with its agreement (protocol art. 6, GDPR art. 28).

    An active processor needs a contract (date and reference): the model refuses one without
    (form and database). DOV must be told of processor changes (protocol art. 9): a change made
    after ``overview_sent_to_dov_on`` is flagged until the overview is sent again.
    """

    name = models.CharField(_("organisatie"), max_length=200)
    purpose = models.TextField(_("wat ze verwerken en waarom"))
    location = models.CharField(_("land of regio van verwerking"), max_length=100, blank=True)
    agreement_reference = models.CharField(
        _("verwerkersovereenkomst (referentie)"), max_length=200, blank=True
    )
    agreement_signed_on = models.DateField(_("overeenkomst getekend op"), null=True, blank=True)
    active = models.BooleanField(_("actief"), default=True)
    overview_sent_to_dov_on = models.DateField(
        _("overzicht naar DOV gestuurd op"), null=True, blank=True
    )
    # Set when anything but the sending date changes (RegisterAdmin), compared with the above.
    changed_at = models.DateTimeField(_("inhoudelijk gewijzigd op"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("verwerker")
        verbose_name_plural = _("verwerkers")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(active=False)
                | (models.Q(agreement_signed_on__isnull=False) & ~models.Q(agreement_reference="")),
                name="processor_active_needs_contract",
                violation_error_message=_(
                    "Een actieve verwerker heeft een verwerkersovereenkomst nodig: vul de "
                    "datum en de referentie in."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def dov_overview_outdated(self) -> bool:
        return registers.processor_overview_outdated(self)


class ProcessingActivity(models.Model):
    """One line of the register of processing activities (GDPR art. 30, protocol art. 6)."""

    name = models.CharField(_("verwerking"), max_length=200)
    controller = models.CharField(_("verwerkingsverantwoordelijke"), max_length=200, blank=True)
    purpose = models.TextField(_("doel"))
    legal_basis = models.CharField(_("rechtsgrond"), max_length=200)
    data_subjects = models.CharField(_("categorieën betrokkenen"), max_length=200)
    data_categories = models.TextField(_("categorieën persoonsgegevens"))
    recipients = models.TextField(_("ontvangers"), blank=True)
    transfers = models.TextField(_("doorgiften buiten de EER"), blank=True)
    retention = models.CharField(_("bewaartermijn"), max_length=200)
    security_measures = models.TextField(_("beveiligingsmaatregelen"), blank=True)
    processors = models.ManyToManyField(
        Processor, blank=True, related_name="activities", verbose_name=_("verwerkers")
    )
    starts_on = models.DateField(_("loopt vanaf"), null=True, blank=True)
    ends_on = models.DateField(_("loopt tot en met"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("verwerkingsactiviteit")
        verbose_name_plural = _("verwerkingsactiviteiten")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True)
                | models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="processing_activity_ends_after_start",
                violation_error_message=_("De einddatum ligt vóór de begindatum."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RetentionTerm(models.Model):
    """A period a processing activity names for some data, compared with what the settings
    enforce: a term longer than the rule in force is flagged (the register promises less
    deletion than happens is fine; more than happens is not what we do)."""

    class Rule(models.TextChoices):
        SNAPSHOTS = "snapshots", _("identiteitsmomentopname (RETENTION_SNAPSHOT_DAYS)")
        ACCOUNTS = "accounts", _("leerlingaccount (RETENTION_ACCOUNT_DAYS)")
        PRIVACY_LOG = "privacy_log", _("privacylog (PRIVACY_LOG_RETENTION_DAYS)")
        OTHER = "other", _("andere (niet door een instelling afgedwongen)")

    activity = models.ForeignKey(
        ProcessingActivity,
        on_delete=models.CASCADE,
        related_name="retention_terms",
        verbose_name=_("verwerkingsactiviteit"),
    )
    data = models.CharField(_("gegevens"), max_length=200)
    rule = models.CharField(_("afgedwongen door"), max_length=16, choices=Rule.choices)
    days = models.PositiveIntegerField(_("bewaartermijn (dagen)"))

    class Meta:
        ordering = ["activity", "pk"]
        verbose_name = _("bewaartermijn")
        verbose_name_plural = _("bewaartermijnen")

    def __str__(self) -> str:
        return f"{self.data}: {self.days}"

    @property
    def enforced_days(self) -> int | None:
        return registers.enforced_days(self.rule)

    @property
    def longer_than_enforced(self) -> bool:
        enforced = self.enforced_days
        return enforced is not None and self.days > enforced


class DataQualityReport(models.Model):
    """Wrong, incomplete or outdated data found and reported to the other party (art. 7)."""

    class Status(models.TextChoices):
        # A monthly report generated from the counts, waiting for the DPO's review.
        DRAFT = "draft", _("concept (na te kijken)")
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
    # Monthly reports (dpo.services.data_quality_report_draft): the month (its first day) and
    # the counts per reason code and claim name, never a value.
    month = models.DateField(_("maand"), null=True, blank=True, unique=True)
    counts = models.JSONField(_("aantallen"), default=dict, blank=True)
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
