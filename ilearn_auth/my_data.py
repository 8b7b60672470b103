""" "Mijn gegevens": what we keep about the signed-in pupil, read from the database (GDPR art. 15).

The page and the JSON download (art. 20) show one ``MyData``, built by ``my_data_for``: the
names as LeerID gave them at the last login, that login's date, the schools (all enrollments
LeerID sent and the ones that gave access), the kind of account, and the dates on which the
retention rules remove the login data and the account if the pupil does not sign in again
(``retention.policy.removed_at``: the settings' periods and the beat schedule applied to the
stored times, as dates in Brussels). The LeerID and account keys are never shown: only whether
they are kept, and a short code the helpdesk can search on (the pseudonym's first characters).
Each view and each download is a privacy-log entry with the pupil as actor, written before the
data leaves, so a download that cannot be logged is not given.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

import privacy
from privacy.models import PrivacyLogEntry
from pupils.models import Pupil
from retention import policy
from schools.selectors import school_names

# As many characters of the pseudonym as the staff's pupil search needs (pupils.selectors).
HELPDESK_CODE_LENGTH = 12


@dataclass(frozen=True)
class School:
    number: str
    name: str


@dataclass(frozen=True)
class LoginData:
    """The identity snapshot of the last login, as the pupil reads it."""

    given_name: str
    family_name: str
    login_at: dt.datetime
    has_leerid_key: bool
    old_account_keys: int
    enrollments: list[School]
    granted_schools: list[School]
    removed_on: dt.date


@dataclass(frozen=True)
class LogEntry:
    at: dt.datetime
    action: str
    outcome: str
    reason: str


@dataclass(frozen=True)
class MyData:
    helpdesk_code: str
    kind: str
    account_created_at: dt.datetime
    last_login_at: dt.datetime
    account_removed_on: dt.date
    login_data: LoginData | None
    log_entries: list[LogEntry]

    @property
    def identified(self) -> bool:
        return self.kind == Pupil.Kind.IDENTIFIED

    def as_json(self, *, generated_at: dt.datetime) -> dict:
        login = self.login_data
        return {
            "generated_at": generated_at.isoformat(),
            "account": {
                "helpdesk_code": self.helpdesk_code,
                "kind": self.kind,
                "created_at": self.account_created_at.isoformat(),
                "last_login_at": self.last_login_at.isoformat(),
                "removed_on_without_login": self.account_removed_on.isoformat(),
            },
            "login_data": None
            if login is None
            else {
                "given_name": login.given_name,
                "family_name": login.family_name,
                "login_at": login.login_at.isoformat(),
                "leerid_key_kept": login.has_leerid_key,
                "account_key_kept": True,
                "old_account_keys_kept": login.old_account_keys,
                "schools_enrolled": [school.number for school in login.enrollments],
                "schools_with_access": [school.number for school in login.granted_schools],
                "removed_on": login.removed_on.isoformat(),
            },
            "privacy_log": [
                {
                    "at": entry.at.isoformat(),
                    "action": entry.action,
                    "outcome": entry.outcome,
                    "reason": entry.reason,
                }
                for entry in self.log_entries
            ],
        }


def _brussels_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def my_data_for(pupil: Pupil) -> MyData:
    """Everything we keep about ``pupil``, with the dates the retention rules remove it."""
    snapshot = getattr(pupil, "snapshot", None)
    login_data = None
    if snapshot is not None:
        names = school_names([*snapshot.enrollments, *snapshot.granted_schools])

        def schools(numbers: list[str]) -> list[School]:
            return [School(number, names.get(number, "")) for number in numbers]

        login_data = LoginData(
            given_name=snapshot.given_name,
            family_name=snapshot.family_name,
            login_at=snapshot.login_at,
            has_leerid_key=snapshot.leer_id_uuid is not None,
            old_account_keys=len(snapshot.historiek_account_uuids or []),
            enrollments=schools(snapshot.enrollments),
            granted_schools=schools(snapshot.granted_schools),
            removed_on=_brussels_date(policy.removed_at(policy.SNAPSHOTS, snapshot.login_at)),
        )
    entries = PrivacyLogEntry.objects.filter(subject=pupil.pseudonym).order_by("sequence")
    return MyData(
        helpdesk_code=pupil.pseudonym[:HELPDESK_CODE_LENGTH],
        kind=pupil.kind,
        account_created_at=pupil.created_at,
        last_login_at=pupil.last_login_at,
        account_removed_on=_brussels_date(policy.removed_at(policy.ACCOUNTS, pupil.last_login_at)),
        login_data=login_data,
        log_entries=[
            LogEntry(entry.created_at, entry.action, entry.outcome, entry.reason)
            for entry in entries
        ],
    )


def _signed_in_pupil(request: HttpRequest) -> Pupil:
    pupil = Pupil.objects.select_related("snapshot").filter(user=request.user).first()
    if pupil is None:
        # Staff signed in to the admin have no pupil data here.
        raise PermissionDenied
    return pupil


def _log(action: str, pupil: Pupil, what: str) -> None:
    privacy.log(
        action,
        actor=f"pupil:{pupil.pseudonym}",
        subject=pupil.pseudonym,
        details={"page": "mijn_gegevens", "what": what},
    )


@never_cache
@login_required
@require_GET
def my_data_page(request: HttpRequest) -> HttpResponse:
    pupil = _signed_in_pupil(request)
    data = my_data_for(pupil)
    _log("sensitive_read", pupil, "page")
    return render(request, "ilearn_auth/my_data.html", {"data": data})


@never_cache
@login_required
@require_GET
def my_data_download(request: HttpRequest) -> HttpResponse:
    pupil = _signed_in_pupil(request)
    data = my_data_for(pupil)
    _log("sensitive_export", pupil, "json")
    body = json.dumps(data.as_json(generated_at=timezone.now()), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="mijn-gegevens-i-learn.json"'
    return response
