"""The one documented list of privacy-log actions.

Names follow the OWASP Logging Vocabulary (``authn_*``, ``authz_*``, ``sensitive_*``,
``user_*``) where one fits; the rest are ours. Actions are plain strings so that callers need
no import beyond ``privacy.log``; :func:`privacy.log` refuses a name that is not listed here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# --- OWASP Logging Vocabulary ------------------------------------------------------------------
# A pupil (or staff member) signed in; subject is the pupil's pseudonym.
AUTHN_LOGIN_SUCCESS = "authn_login_success"
# A login was refused (bad token, no enrollment, no agreement...); ``reason`` says why.
AUTHN_LOGIN_FAIL = "authn_login_fail"
# Someone signed in tried something their role does not allow.
AUTHZ_FAIL = "authz_fail"
# A session ended (local logout, with or without the ACM logout).
AUTHN_LOGOUT = "authn_logout"
# A staff member saw a pupil's personal data (``privacy.audit.log_sensitive_read``).
SENSITIVE_READ = "sensitive_read"
# A pupil's personal data left the system (an export for an access request).
SENSITIVE_EXPORT = "sensitive_export"
# A pupil's personal data was erased on request (not by the retention rules).
SENSITIVE_DELETE = "sensitive_delete"
# A pupil account (and everything it owns) was deleted.
USER_DELETED = "user_deleted"
# A staff account (or a client address) is locked after too many failed sign-ins.
AUTHN_LOGIN_LOCK = "authn_login_lock"
# A user's groups, permissions, is_staff or is_superuser changed (who changed whose what).
AUTHZ_CHANGE = "authz_change"

# --- Ours ----------------------------------------------------------------------------------------
# A temporary account was merged into an identified one (details: the other pseudonym).
PUPIL_MERGED = "pupil_merged"
# A retention run removed snapshots or accounts (details: counts, never who).
RETENTION_PURGE = "retention_purge"
# A school's agreement was created, changed, suspended or ended.
AGREEMENT_CHANGED = "agreement_changed"
# The DPO exported (part of) the privacy log.
PRIVACY_LOG_EXPORT = "privacy_log_export"
# Old privacy-log entries were pruned; details hold the new checkpoint.
PRIVACY_LOG_PRUNE = "privacy_log_prune"
# An entry of a DPO register (breaches, processors, activities, data quality) changed.
REGISTER_CHANGED = "register_changed"
# The DPO's workbench (issue 12).
# The daily self-check verified the privacy log (details: head sequence and hash, or the break).
PRIVACY_LOG_VERIFIED = "privacy_log_verified"
# A breach passed its 72-hour notification deadline unnotified (subject: breach:<pk>).
BREACH_OVERDUE = "breach_overdue"
# An evidence bundle was written (details: its SHA-256 and what it holds).
EVIDENCE_BUNDLE_CREATED = "evidence_bundle_created"
# The protocol's end was set (details: the date); logins are refused from that date.
PROTOCOL_END_SET = "protocol_end_set"
# Every pupil's data was destroyed at the protocol's end (details: counts and times).
PROTOCOL_END_DESTROYED = "protocol_end_destroyed"
# A staff sign-in lockout was lifted by the DPO (details: account or address).
STAFF_UNLOCKED = "staff_unlocked"
# A staff member enrolled a second factor (TOTP app and recovery codes).
STAFF_DEVICE_ENROLLED = "staff_device_enrolled"
# The DPO removed a staff member's second factor (they must enrol again).
STAFF_DEVICE_REMOVED = "staff_device_removed"
# A staff member signed in with a single-use recovery code (details: codes left).
STAFF_RECOVERY_CODE_USED = "staff_recovery_code_used"
# The DPO opened (or exported) the staff access review.
STAFF_ACCESS_REVIEWED = "staff_access_reviewed"

ACTIONS: dict[str, str] = {
    AUTHN_LOGIN_SUCCESS: _("aanmelding gelukt"),
    AUTHN_LOGIN_FAIL: _("aanmelding geweigerd"),
    AUTHZ_FAIL: _("toegang geweigerd"),
    AUTHN_LOGOUT: _("afmelding"),
    SENSITIVE_READ: _("persoonsgegevens bekeken"),
    SENSITIVE_EXPORT: _("persoonsgegevens geëxporteerd"),
    SENSITIVE_DELETE: _("persoonsgegevens gewist"),
    USER_DELETED: _("account verwijderd"),
    PUPIL_MERGED: _("accounts samengevoegd"),
    RETENTION_PURGE: _("bewaartermijn toegepast"),
    AGREEMENT_CHANGED: _("overeenkomst gewijzigd"),
    PRIVACY_LOG_EXPORT: _("privacylog geëxporteerd"),
    PRIVACY_LOG_PRUNE: _("privacylog ingekort"),
    REGISTER_CHANGED: _("register gewijzigd"),
    PRIVACY_LOG_VERIFIED: _("privacylog gecontroleerd"),
    BREACH_OVERDUE: _("meldtermijn gegevenslek overschreden"),
    EVIDENCE_BUNDLE_CREATED: _("bewijsbundel aangemaakt"),
    PROTOCOL_END_SET: _("einde van het protocol vastgelegd"),
    PROTOCOL_END_DESTROYED: _("leerlinggegevens vernietigd bij het einde van het protocol"),
    AUTHN_LOGIN_LOCK: _("aanmelden geblokkeerd"),
    AUTHZ_CHANGE: _("rechten gewijzigd"),
    STAFF_UNLOCKED: _("blokkering opgeheven"),
    STAFF_DEVICE_ENROLLED: _("tweede factor ingesteld"),
    STAFF_DEVICE_REMOVED: _("tweede factor verwijderd"),
    STAFF_RECOVERY_CODE_USED: _("herstelcode gebruikt"),
    STAFF_ACCESS_REVIEWED: _("toegangsoverzicht bekeken"),
}
