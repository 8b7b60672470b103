"""Support's answer to "why can't I sign in?": the refusal view (``/admin/support/refusals/``).

Support types what the pupil gives them, into a POST form (so no key lands in a URL): the
short reference from the refusal page (``ilearn_auth.refusal_reference``), a LeerID or account
key, a public id or a pseudonym. The page lists that pupil's recent refused logins from the
privacy log: when, the reason in Dutch with what to do (``ilearn_auth.refusal_codes``), and the
schools involved with each one's agreement state today. No names and no keys: those come only
after the "toon persoonsgegevens" step, which is logged as a read (``sensitive_read``).

It joins the privacy log, schools and pupils, so it lives here, at the project level: those
apps do not import each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ilearn_auth.refusal_codes import REFUSAL_CODES
from ilearn_auth.refusal_reference import reference_for, sequence_from
from privacy.audit import log_sensitive_read
from privacy.pseudonyms import fingerprint, typed_key_pseudonym
from privacy.selectors import REFUSAL_ACTIONS, privacy_log_entry, privacy_log_refusals
from pupils.models import IdentitySnapshot, Pupil
from pupils.selectors import pupils_matching
from schools.access import BRUSSELS
from schools.selectors import State, school_states

VIEW_PERMISSION = "pupils.view_pupil"
IDENTITY_PERMISSION = "pupils.view_identitysnapshot"
PAGE = "support_refusals"
_PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Refusal:
    reference: str
    when: str
    code: str
    meaning: str
    todo: str
    schools: list[tuple[str, str]]


@dataclass
class Lookup:
    """What the typed text led to; ``understood`` is False when it is none of the forms."""

    understood: bool
    pupils: list[Pupil] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    reference: str = ""


@never_cache
@require_http_methods(["GET", "POST"])
def refusals_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied(VIEW_PERMISSION)
    text = request.POST.get("key", "").strip() if request.method == "POST" else ""
    lookup = refusals_lookup(text) if text else None
    identities = None
    if lookup is not None and request.POST.get("show") == "1":
        if not request.user.has_perm(IDENTITY_PERMISSION):
            raise PermissionDenied(IDENTITY_PERMISSION)
        identities = _identities(request, lookup.pupils)
    context = {
        **_admin_context(request),
        "title": _("Waarom kan een leerling niet aanmelden?"),
        "lookup": lookup,
        "identities": identities,
        "may_show": request.user.has_perm(IDENTITY_PERMISSION),
        # The step re-asks by reference or pseudonym: the typed key is not echoed in the page.
        "show_key": _show_key(lookup),
    }
    return TemplateResponse(request, "admin/support/refusals.html", context)


def _is_pupil_refusal(entry) -> bool:
    return (
        entry.action in REFUSAL_ACTIONS
        and entry.outcome == "failure"
        and (entry.subject == "" or bool(_PSEUDONYM.match(entry.subject)))
    )


def _show_key(lookup: Lookup | None) -> str:
    if lookup is None or not lookup.pupils:
        return ""
    return lookup.reference or lookup.pupils[0].pseudonym


def refusals_lookup(text: str) -> Lookup:
    """The pupils and recent refusals a typed reference, key, public id or pseudonym names."""
    subjects: list[str] = []
    pupils: list[Pupil] = []
    reference = ""
    sequence = sequence_from(text)
    if sequence is not None:
        entry = privacy_log_entry(sequence)
        if entry is None or not _is_pupil_refusal(entry):
            # Only a refusal's reference leads anywhere: any other entry (a staff member's
            # failed sign-in, a DPO's read) reads as not found, like a number never given out.
            return Lookup(understood=True, reference=text.upper())
        reference = reference_for(entry.sequence)
        if not _PSEUDONYM.match(entry.subject):
            # The login stopped before LeerID told who it was: this entry is all there is.
            return Lookup(understood=True, refusals=_refusals([entry]), reference=reference)
        subjects.append(entry.subject)
        pupils = list(Pupil.objects.filter(pseudonym=entry.subject))
    else:
        pseudonym = typed_key_pseudonym(text)
        pupils = list(pupils_matching(text)[:5])
        if pseudonym is None and not pupils:
            if not _PSEUDONYM.match(text.lower()):
                return Lookup(understood=False)
            pseudonym = text.lower()
        if pseudonym:
            subjects.append(pseudonym)
    subjects += [pupil.pseudonym for pupil in pupils if pupil.pseudonym not in subjects]
    entries = sorted(
        (entry for subject in subjects for entry in privacy_log_refusals(subject=subject)),
        key=lambda entry: -entry.sequence,
    )
    return Lookup(
        understood=True, pupils=pupils, refusals=_refusals(entries[:20]), reference=reference
    )


def _refusals(entries) -> list[Refusal]:
    numbers = {number for entry in entries for number in _schools_of(entry)}
    today = timezone.localdate(timezone=BRUSSELS)
    states = school_states(numbers, on=today) if numbers else {}
    refusals = []
    for entry in entries:
        meaning, todo = REFUSAL_CODES.get(entry.reason, (entry.reason, ""))
        refusals.append(
            Refusal(
                reference=reference_for(entry.sequence),
                when=date_format(timezone.localtime(entry.created_at), "d-m-Y H:i"),
                code=entry.reason,
                meaning=str(meaning),
                todo=str(todo),
                schools=[(n, str(State.LABELS[states[n]])) for n in _schools_of(entry)],
            )
        )
    return refusals


def _schools_of(entry) -> list[str]:
    schools = entry.details.get("schools", []) if isinstance(entry.details, dict) else []
    return [number for number in schools if isinstance(number, str)]


def _identities(request: HttpRequest, pupils: list[Pupil]) -> list[dict]:
    """Names and key fingerprints of the pupils found, each view logged before it is shown."""
    shown = []
    for pupil in pupils:
        snapshot = IdentitySnapshot.objects.filter(pupil=pupil).first()
        if snapshot is None:
            continue
        log_sensitive_read(request, subject=pupil.pseudonym, page=PAGE)
        keys = [snapshot.leer_id_uuid, snapshot.account_uuid]
        shown.append(
            {
                "pupil": pupil,
                "given_name": snapshot.given_name,
                "family_name": snapshot.family_name,
                # Fingerprints, as on the pupil's page: enough to match a key, never the key.
                "keys": [fingerprint(str(key)) for key in keys if key],
                "enrollments": snapshot.enrollments,
            }
        )
    return shown


def _admin_context(request: HttpRequest) -> dict:
    from django.contrib import admin

    return admin.site.each_context(request)
