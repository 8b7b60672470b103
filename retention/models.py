"""Every retention run, as the DPO sees it in the admin: when, what, how many, how it ended."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RetentionRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("bezig")
        SUCCESS = "success", _("geslaagd")
        FAILED = "failed", _("mislukt")
        # Another run held the lock: this one left without touching anything.
        SKIPPED = "skipped", _("overgeslagen (andere run bezig)")
        # Found still "running" by a later run that got the lock: the process died mid-way.
        INTERRUPTED = "interrupted", _("onderbroken")

    started_at = models.DateTimeField(_("gestart"), db_index=True)
    finished_at = models.DateTimeField(_("beëindigd"), null=True, blank=True)
    dry_run = models.BooleanField(_("proefdraaien"), default=False)
    # Rule names asked for, e.g. ["accounts", "snapshots"].
    rules = models.JSONField(_("regels"), default=list)
    # Rows deleted (or, in a dry run, that would be) per rule: {"snapshots": 1234}.
    counts = models.JSONField(_("aantallen"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    # A fixed description (rule and exception class), never an exception message.
    error = models.CharField(_("fout"), max_length=200, blank=True)
    trigger = models.CharField(_("gestart door"), max_length=16, default="task")

    class Meta:
        verbose_name = _("bewaartermijn-run")
        verbose_name_plural = _("bewaartermijn-runs")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "finished_at"])]

    def __str__(self) -> str:
        # The admin's title: the id the command prints ("Run 3"), in Brussels time, in Dutch.
        started = timezone.localtime(self.started_at).strftime("%d-%m-%Y %H:%M")
        return _("Run %(id)s van %(started)s (%(status)s)") % {
            "id": self.pk,
            "started": started,
            "status": self.get_status_display(),
        }
