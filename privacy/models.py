"""The privacy log's models; the DPO's registers are imported from ``register_models``. Nothing
here holds a name or a raw LeerID key.

Privacy-log rows (``PrivacyLogRecord``) are written only by ``privacy.services`` and removed only
by ``privacy.pruning.privacy_log_prune``; on PostgreSQL a trigger (migration 0009) refuses every
other UPDATE or DELETE. ``PrivacyLogEntry`` reads them as text; its only permission is ``view``:
nobody can be granted more.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy import actions


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


# Django finds models imported here: the erasure ledger has a database of its own in production
# (privacy/ledger.py); the DPO's registers (protocol art. 6, 7 and 9; GDPR art. 28, 30 and 33)
# are a module of their own.
from privacy.ledger import ErasureLedgerEntry  # noqa: E402, F401
from privacy.register_models import (  # noqa: E402, F401
    NO_PERSONAL_DATA,
    Breach,
    DataQualityReport,
    ProcessingActivity,
    Processor,
    RetentionTerm,
)
