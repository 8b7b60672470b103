"""Proof on request (protocol art. 6: "moet kunnen aantonen"): one zip archive with the
registers (CSV and JSON), the retention runs of the last 400 days, the last self-checks of the
privacy log with their head hashes, the role matrix, the staff access review (when the staff
app provides one), the settings that carry the protocol (never a secret), the protocol's end
report when there is one, a manifest with each file's SHA-256, and an ``index.html`` report.

The archive is written to a temporary file beside the target and moved in place only when
complete; an existing target is refused unless ``force``. Its creation is logged.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from dpo.models import EvidenceBundle, LogVerification, ProtocolEnd
from privacy import actions
from privacy.csv_cells import guard
from privacy.models import Breach, DataQualityReport, ProcessingActivity, Processor
from privacy.services import privacy_log_head, privacy_log_write
from retention.models import RetentionRun

RETENTION_RUN_DAYS = 400
VERIFICATIONS = 400
# The settings that carry the protocol: periods, scopes, claim names, where LeerID is. Listed
# one by one: a secret can only get in by being added here (tests check none is).
PROTOCOL_SETTINGS = (
    "RETENTION_SNAPSHOT_DAYS",
    "RETENTION_ACCOUNT_DAYS",
    "PRIVACY_LOG_RETENTION_DAYS",
    "LEERID_ISSUER",
    "LEERID_CLIENT_ID",
    "LEERID_CLIENT_AUTH",
    "LEERID_SCOPES",
    "LEERID_REQUIRE_SUB",
    "LEERID_USE_USERINFO",
    "LEERID_CLAIM_GIVEN_NAME",
    "LEERID_CLAIM_FAMILY_NAME",
    "LEERID_CLAIM_LEERID_UUID",
    "LEERID_CLAIM_ACCOUNT_UUID",
    "LEERID_CLAIM_HISTORIEK",
    "LEERID_CLAIM_ENROLLMENTS",
    "SESSION_COOKIE_AGE",
    "TIME_ZONE",
    "DEBUG",
)


# Columns whose True is something the DPO must act on.
FLAGS = frozenset({"overdue", "dov_overview_outdated", "retention_longer_than_enforced"})


class BundleExists(Exception):
    """The target path exists and ``force`` was not given."""


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return self.name.replace("/", "-")

    def cells(self) -> list[list[tuple[Any, bool]]]:
        """Each row's values in column order, with whether the value is a red flag."""
        return [
            [
                (row.get(column), column in FLAGS and row.get(column) is True)
                for column in self.columns
            ]
            for row in self.rows
        ]


def evidence_bundle_write(path: Path | str, *, actor: str, force: bool = False) -> EvidenceBundle:
    path = Path(path)
    if path.exists() and not force:
        raise BundleExists(f"{path} exists; use --force to overwrite it.")
    content, files = evidence_bundle_bytes()
    directory = path.parent if str(path.parent) else Path()
    descriptor, temporary = tempfile.mkstemp(prefix=".bundle-", suffix=".zip", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        if force:
            os.replace(temporary, path)
        else:
            # Atomic and never overwriting: a file that appeared meanwhile is refused too.
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise BundleExists(f"{path} exists; use --force to overwrite it.") from None
            os.unlink(temporary)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return evidence_bundle_record(content, files, filename=path.name, actor=actor)


def evidence_bundle_record(
    content: bytes, files: list[str], *, filename: str, actor: str
) -> EvidenceBundle:
    digest = hashlib.sha256(content).hexdigest()
    bundle = EvidenceBundle.objects.create(
        created_at=timezone.now(),
        created_by=actor,
        filename=filename[:255],
        sha256=digest,
        size=len(content),
        files=files,
    )
    privacy_log_write(
        action=actions.EVIDENCE_BUNDLE_CREATED,
        actor=actor,
        subject=f"bundle:{bundle.pk}",
        details={"sha256": digest, "size": len(content), "files": len(files)},
    )
    return bundle


def evidence_bundle_bytes() -> tuple[bytes, list[str]]:
    """The archive, in memory (it holds registers and counts, not the log: a few MB at most)."""
    now = timezone.now()
    tables = _tables(now)
    head = privacy_log_head()
    protocol = {name: getattr(settings, name, None) for name in PROTOCOL_SETTINGS}
    end = ProtocolEnd.objects.filter(pk=1).first()
    end_report = (
        {"ends_on": end.ends_on, "set_at": end.set_at, "set_by": end.set_by, "report": end.report}
        if end
        else None
    )
    files: dict[str, bytes] = {}
    for table in tables:
        files[f"{table.name}.csv"] = _csv(table)
        files[f"{table.name}.json"] = _json(table.rows)
    files["protocol/settings.json"] = _json(protocol)
    files["privacy_log/head.json"] = _json(
        {"sequence": head.sequence, "hash": head.hash, "read_at": now}
    )
    if end_report:
        files["protocol/protocol_end.json"] = _json(end_report)
    context = {
        "generated_at": now,
        "tables": tables,
        "protocol": protocol,
        "head": head,
        "end": end_report,
        "staff_review_available": any(t.name == "staff/access_review" for t in tables),
        "files": sorted([*files, "manifest.json"]),
    }
    files["index.html"] = render_to_string("dpo/bundle_index.html", context).encode()
    manifest = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    files["manifest.json"] = _json({"generated_at": now, "sha256": manifest})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue(), sorted(files)


# --- What goes in -------------------------------------------------------------------------------
def _tables(now) -> list[Table]:
    tables = [
        _processing_activities(),
        _model_table(
            "registers/breaches",
            _("Gegevenslekken (AVG art. 33/34, protocol art. 9)"),
            Breach,
            extra={"deadline": lambda b: b.deadline, "overdue": lambda b: b.is_overdue(now)},
        ),
        _model_table(
            "registers/processors",
            _("Verwerkers (AVG art. 28, protocol art. 6)"),
            Processor,
            extra={"dov_overview_outdated": lambda p: p.dov_overview_outdated},
        ),
        _model_table(
            "registers/data_quality_reports",
            _("Meldingen over gegevenskwaliteit (protocol art. 7)"),
            DataQualityReport,
        ),
        _model_table(
            "retention/runs",
            _("Bewaartermijn-runs van de laatste 400 dagen"),
            RetentionRun,
            queryset=RetentionRun.objects.filter(
                started_at__gte=now - timedelta(days=RETENTION_RUN_DAYS)
            ).order_by("-started_at"),
        ),
        _model_table(
            "privacy_log/verifications",
            _("Controles van de privacylog, met de kop-hash van elke dag"),
            LogVerification,
            queryset=LogVerification.objects.order_by("-checked_at")[:VERIFICATIONS],
        ),
        _role_matrix(),
    ]
    review = staff_access_review_rows()
    if review is not None:
        columns = list(review[0]) if review else []
        tables.append(
            Table("staff/access_review", _("Toegangsreview van de medewerkers"), columns, review)
        )
    return tables


def staff_access_review_rows() -> list[dict[str, Any]] | None:
    """The staff access review (``staff.selectors.access_review_rows``), one dict per account."""
    if not apps.is_installed("staff"):
        return None
    from staff.selectors import access_review_rows

    return [asdict(row) for row in access_review_rows()]


def _processing_activities() -> Table:
    columns = [
        "id",
        "name",
        "controller",
        "purpose",
        "legal_basis",
        "data_subjects",
        "data_categories",
        "recipients",
        "transfers",
        "retention",
        "retention_terms",
        "retention_longer_than_enforced",
        "security_measures",
        "processors",
        "starts_on",
        "ends_on",
        "updated_at",
    ]
    rows = []
    for activity in ProcessingActivity.objects.prefetch_related("retention_terms", "processors"):
        terms = list(activity.retention_terms.all())
        row = {name: getattr(activity, name, None) for name in columns[:10]}
        row |= {
            "retention_terms": [
                {"data": t.data, "rule": t.rule, "days": t.days, "enforced_days": t.enforced_days}
                for t in terms
            ],
            "retention_longer_than_enforced": any(t.longer_than_enforced for t in terms),
            "security_measures": activity.security_measures,
            "processors": [p.name for p in activity.processors.all()],
            "starts_on": activity.starts_on,
            "ends_on": activity.ends_on,
            "updated_at": activity.updated_at,
        }
        rows.append(row)
    return Table(
        "registers/processing_activities",
        _("Register van verwerkingsactiviteiten (AVG art. 30, protocol art. 6)"),
        columns,
        rows,
    )


def _model_table(name, title, model, *, queryset=None, extra=None) -> Table:
    extra = extra or {}
    fields = [f.name for f in model._meta.concrete_fields]
    rows = []
    for obj in queryset if queryset is not None else model.objects.all():
        row = {f: getattr(obj, f) for f in fields}
        row |= {key: compute(obj) for key, compute in extra.items()}
        rows.append(row)
    return Table(name, str(title), [*fields, *extra], rows)


def _role_matrix() -> Table:
    rows = [
        {
            "group": group.name,
            "members": group.user_set.filter(is_active=True).count(),
            "permission": f"{perm.content_type.app_label}.{perm.codename}",
            "meaning": perm.name,
        }
        for group in Group.objects.order_by("name").prefetch_related("permissions__content_type")
        for perm in sorted(
            group.permissions.all(), key=lambda p: (p.content_type.app_label, p.codename)
        )
    ]
    return Table(
        "roles/role_matrix",
        _("Rollen: wie wat mag zien en doen"),
        ["group", "members", "permission", "meaning"],
        rows,
    )


def _cell(value: Any) -> str:
    if isinstance(value, (list, dict)):
        value = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return guard("" if value is None else str(value))


def _csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(row.get(column)) for column in table.columns])
    return buffer.getvalue().encode("utf-8-sig")


def _json(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()
