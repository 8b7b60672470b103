"""Reason codes of privacy-log entries, explained in Dutch for the DPO and Support.

An entry's ``reason`` is a short code written by whichever app logged it: the login's failure
codes (``no_agreement``), a retention run's status, a register change. ``privacy`` imports no
app of ours, so apps register their codes here (``reasons_register``, from their
``AppConfig.ready``); the admin shows each code beside its explanation. An unknown code is shown
as it is.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

_REASONS: dict[str, str] = {
    # Written by privacy itself and by the generic parts of the project.
    "retention": _("verwijderd door de bewaartermijn"),
    "permission_denied": _("geen toelating voor deze pagina"),
    "added": _("toegevoegd"),
    "changed": _("gewijzigd"),
    "deleted": _("verwijderd"),
    # A chain check that found a break (privacy.verification's kinds; "changed" is above).
    "missing": _("een regel ontbreekt"),
    "reordered": _("regels staan in een andere volgorde"),
    "inserted": _("er is een regel tussengevoegd"),
    # A pupil erased again after a backup was restored (pupils.services.pupil_apply_erasures).
    "erasure_ledger": _("opnieuw gewist na het terugzetten van een back-up"),
    # Retention runs that did not succeed (retention.models.RetentionRun.Status).
    "failed": _("mislukt"),
    "skipped": _("overgeslagen: een andere run was bezig"),
    "interrupted": _("onderbroken"),
}


def reasons_register(reasons: dict[str, str]) -> None:
    """Add or replace explanations; call from an ``AppConfig.ready``."""
    _REASONS.update(reasons)


def reason_label(code: str) -> str:
    """The Dutch explanation of a reason code, or the code itself when none is registered."""
    return str(_REASONS.get(code, code))
