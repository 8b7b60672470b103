"""The DPO's workbench: daily counts for the dashboard, the log's self-checks, alerts waiting
for the mail server, evidence bundles written, and the protocol's end.

Nothing here holds a name, a LeerID key or a claim value: counts are keyed by reason codes and
claim names, actors are ``staff:<pk>`` or ``system``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyCount(models.Model):
    """One number per day (Brussels), metric and key: the dashboard reads only this table."""

    class Metric(models.TextChoices):
        LOGIN_GRANTED = "login_granted", _("aanmeldingen toegelaten")
        # key: the refusal reason (ilearn_auth.oidc.FAILURES)
        LOGIN_REFUSED = "login_refused", _("aanmeldingen geweigerd")
        # key: the claims refusal code (pupils.claims.Refusal): LeerID's data was wrong
        DQ_REFUSAL = "dq_refusal", _("gegevenskwaliteit: weigeringscode")
        # key: a claim name outside the allowlist: LeerID sent more than we asked for
        DQ_CLAIM = "dq_claim", _("gegevenskwaliteit: claim buiten de lijst")
        # pupil accounts at the end of the day, and those the retention runs removed that day
        PUPILS = "pupils", _("leerlingaccounts bewaard")
        PURGED_ACCOUNTS = "purged_accounts", _("leerlingaccounts verwijderd")
        PURGED_SNAPSHOTS = "purged_snapshots", _("momentopnames verwijderd")

    day = models.DateField(_("dag"))
    metric = models.CharField(_("meetwaarde"), max_length=24, choices=Metric.choices)
    key = models.CharField(_("sleutel"), max_length=64, blank=True)
    count = models.BigIntegerField(_("aantal"))

    class Meta:
        ordering = ["-day", "metric", "key"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["day", "metric", "key"], name="dpo_daily_count_unique")
        ]
        verbose_name = _("dagtelling")
        verbose_name_plural = _("dagtellingen")
        # Only the DPO group holds it (ilearn_auth/roles.py).
        permissions = [("view_dashboard", _("Kan het DPO-dashboard bekijken"))]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.key}: {self.count}"


class LogVerification(models.Model):
    """One self-check of the privacy log: the checkpoint the next check starts from."""

    checked_at = models.DateTimeField(_("gecontroleerd op"), db_index=True)
    ok = models.BooleanField(_("in orde"))
    entries = models.BigIntegerField(_("regels nagekeken"))
    since_sequence = models.BigIntegerField(_("vanaf volgnummer"), null=True, blank=True)
    head_sequence = models.BigIntegerField(_("kop: volgnummer"))
    head_hash = models.CharField(_("kop: hash"), max_length=64)
    problem_sequence = models.BigIntegerField(_("fout bij volgnummer"), null=True, blank=True)
    problem_kind = models.CharField(_("soort fout"), max_length=16, blank=True)
    problem_detail = models.CharField(_("fout"), max_length=200, blank=True)
    seconds = models.FloatField(_("duur (s)"), default=0)

    class Meta:
        ordering = ["-checked_at"]
        default_permissions = ("view",)
        verbose_name = _("controle van de privacylog")
        verbose_name_plural = _("controles van de privacylog")

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'BROKEN'}"


class Alert(models.Model):
    """A mail the DPO must get; kept until sent, so a mail server that is down loses nothing."""

    class Kind(models.TextChoices):
        BREACH_OVERDUE = "breach_overdue", _("meldtermijn van een gegevenslek overschreden")
        LOG_BROKEN = "log_broken", _("privacylog niet in orde")
        PROTOCOL_END = "protocol_end", _("leerlinggegevens vernietigd (einde protocol)")

    kind = models.CharField(_("soort"), max_length=24, choices=Kind.choices)
    # "breach:<pk>", "verification:<pk>", ...: what the mail is about, never a person.
    subject = models.CharField(_("onderwerp"), max_length=80)
    created_at = models.DateTimeField(_("aangemaakt op"), auto_now_add=True)
    mailed_at = models.DateTimeField(_("gemaild op"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("pogingen"), default=0)
    last_error = models.CharField(_("laatste fout"), max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject"], name="dpo_alert_once_per_subject")
        ]
        verbose_name = _("melding aan de DPO")
        verbose_name_plural = _("meldingen aan de DPO")

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}"


class EvidenceBundle(models.Model):
    """An evidence bundle that was written (the archive itself lives where it was written)."""

    created_at = models.DateTimeField(_("aangemaakt op"))
    created_by = models.CharField(_("door"), max_length=80)
    filename = models.CharField(_("bestandsnaam"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.BigIntegerField(_("grootte (bytes)"))
    files = models.JSONField(_("inhoud"), default=list)

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        verbose_name = _("bewijsbundel")
        verbose_name_plural = _("bewijsbundels")

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"


class ProtocolEnd(models.Model):
    """The protocol's end (protocol art. 11): at most one row, ever."""

    # Always 1: a second end is refused by the primary key as well as by the command.
    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    ends_on = models.DateField(_("einde op"))
    set_at = models.DateTimeField(_("vastgelegd op"))
    set_by = models.CharField(_("vastgelegd door"), max_length=80)
    destroyed_at = models.DateTimeField(_("gegevens vernietigd op"), null=True, blank=True)
    # Counts and times of the destruction (what went, when, who ran it).
    report = models.JSONField(_("vernietigingsverslag"), default=dict, blank=True)

    class Meta:
        default_permissions = ("view",)
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="dpo_one_end")]
        verbose_name = _("einde van het protocol")
        verbose_name_plural = _("einde van het protocol")

    def __str__(self) -> str:
        return f"protocol end {self.ends_on}"
