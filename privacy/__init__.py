"""The DPO's room: the hash-chained privacy log and the registers the protocol asks for.

``privacy.log`` is imported lazily so that ``import privacy`` (settings, logging config) does not
load models before the app registry is ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from privacy.models import PrivacyLogEntry


def log(
    action: str,
    *,
    actor: str,
    subject: str = "",
    outcome: str = "success",
    reason: str = "",
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
    chained: bool = False,
) -> PrivacyLogEntry:
    """Append one entry to the privacy log (see ``privacy.services.privacy_log_write``)."""
    from privacy.metrics import log_written
    from privacy.services import privacy_log_write

    entry = privacy_log_write(
        action=action,
        actor=actor,
        subject=subject,
        outcome=outcome,
        reason=reason,
        details=details,
        request_id=request_id,
        chained=chained,
    )
    log_written(action=action, outcome=outcome)
    return entry
