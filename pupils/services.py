"""Writes about pupils: recording a granted login (with merges), export, erasure (and its replay
after a restore), key rotation.

``pupil_record_login`` is the only writer on the login path. It runs in one transaction and is
safe under concurrency on PostgreSQL:

1. A transaction-scoped advisory lock per pseudonym involved (the pupil's own and one per
   account key), taken in sorted order in one statement. Two logins that could create, convert
   or merge the same rows therefore run one after the other, and never deadlock on each other.
2. The pupils reached (by pseudonym, or owning one of the account aliases) are locked with
   ``SELECT ... FOR UPDATE`` in primary-key order. Whoever moves or deletes an alias holds the
   lock on its owner, so the aliases read next cannot change under us; when they point at a
   pupil we did not lock (a merge committed between our two reads), the lookup is repeated.

A returning pupil costs five queries: the advisory lock, the locking select (with the user),
the aliases, the ``last_login_at`` update and the snapshot upsert. On PostgreSQL the last four
are built once per process (``pupils.login_statements``): the same statements without the
ORM's per-call query building, which was the largest CPU cost of a login (issue 17).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

import privacy
from privacy.ledger import erased_pseudonyms, erasure_record
from privacy.pseudonyms import pseudonymize, short
from pupils import login_statements
from pupils.claims import LeerIDClaims
from pupils.exceptions import PupilInactive, PupilLookupConflict, PupilNotGranted
from pupils.models import AccountAlias, IdentitySnapshot, Pupil
from pupils.signals import pupil_merged

logger = logging.getLogger(__name__)

# Key space of our advisory locks (the two-int form), so they cannot meet other apps' locks.
_LOCK_NAMESPACE = 0x70757069  # "pupi"
_LOOKUP_ATTEMPTS = 3
_SNAPSHOT_FIELDS = [
    "family_name",
    "given_name",
    "leer_id_uuid",
    "account_uuid",
    "historiek_account_uuids",
    "enrollments",
    "granted_schools",
    "login_at",
]


def pupil_pseudonym(claims: LeerIDClaims) -> str:
    """The pupil's key: HMAC of the LeerID key, or of the account key for a temporary pupil."""
    return pseudonymize(claims.pseudonym_source)


def pupil_account_pseudonyms(claims: LeerIDClaims) -> list[str]:
    """Pseudonyms of the current account key first, then of each old one; no duplicates."""
    keys = [claims.account_uuid, *claims.historiek_account_uuids]
    return list(dict.fromkeys(pseudonymize(key) for key in keys))


@transaction.atomic
def pupil_record_login(
    *,
    claims: LeerIDClaims,
    granted_schools: Iterable[str],
    pseudonym: str | None = None,
    then: Callable[[Pupil], None] | None = None,
) -> Pupil:
    """Record a granted login: find or create the pupil, merge, replace the snapshot.

    ``pseudonym`` is ``pupil_pseudonym(claims)``, passed in by a caller that already has it
    (the login computes it once). ``then`` is called with the surviving pupil last, inside the
    same transaction: the login writes its privacy-log entry there, so that a crash keeps the
    login and its entry together or neither. Returns the surviving pupil with ``.user`` and
    ``.snapshot`` loaded.
    """
    granted = sorted(set(granted_schools))
    if not granted:
        # Nothing may be written about a refused pupil: refuse to be called for one.
        raise PupilNotGranted("pupil_record_login needs at least one granted school")
    pseudonym = pseudonym or pupil_pseudonym(claims)
    aliases = pupil_account_pseudonyms(claims)
    now = timezone.now()

    _lock_pseudonyms([pseudonym, *aliases])
    pupils, owners = _locked_pupils(pseudonym, aliases)
    survivor, absorbed = _survivor(claims, pseudonym, aliases, pupils, owners)

    if survivor is not None and not survivor.user.is_active:
        # Refused before anything is written: no snapshot, no login stamp, no merge.
        raise PupilInactive(survivor.pseudonym)
    if survivor is None:
        kind = Pupil.Kind.IDENTIFIED if claims.identified else Pupil.Kind.TEMPORARY
        survivor = _pupil_create(pseudonym=pseudonym, kind=kind, now=now)
    else:
        update_fields = ["last_login_at"]
        if claims.identified and survivor.pseudonym != pseudonym:
            _pupil_convert(survivor, pseudonym=pseudonym)
            update_fields += ["pseudonym", "kind"]
        if update_fields == ["last_login_at"] and connection.vendor == "postgresql":
            login_statements.stamp_login(survivor, now)
        else:
            survivor.last_login_at = now
            survivor.save(update_fields=update_fields)

    for temporary in absorbed.values():
        _pupil_merge(temporary, into=survivor)
    owners = {alias: survivor.pk if owner in absorbed else owner for alias, owner in owners.items()}
    _aliases_register(survivor, aliases, owners, take_over=claims.identified)
    survivor.snapshot = _snapshot_replace(survivor, claims=claims, granted=granted, now=now)
    if then is not None:
        then(survivor)
    return survivor


def _lock_pseudonyms(pseudonyms: Iterable[str]) -> None:
    if connection.vendor != "postgresql":
        # SQLite serialises writers on the whole database; there is nothing finer to lock.
        return
    # The pseudonyms are HMACs: their first 8 hex digits are as good as any hash of them.
    keys = sorted({int(pseudonym[:8], 16) - 2**31 for pseudonym in pseudonyms})
    calls = ", ".join(["pg_advisory_xact_lock(%s, %s)"] * len(keys))
    params = [value for key in keys for value in (_LOCK_NAMESPACE, key)]
    with connection.cursor() as cursor:
        # Expressions of one select list are evaluated left to right: the locks come in order.
        # Only placeholders are joined into the statement; the keys travel as parameters.
        cursor.execute(f"SELECT {calls}", params)


def _reached_pupils(pseudonym: str, aliases: Sequence[str], also: Iterable[int] = ()):
    """Pupils keyed on one of these pseudonyms or owning one of the aliases, locked, by pk."""
    if connection.vendor == "postgresql":
        return login_statements.reached_pupils(pseudonym, aliases, also)
    # The same statement through the ORM (SQLite: no row locks, no ANY).
    by_pseudonym = Pupil.objects.filter(
        Q(pseudonym__in=[pseudonym, *aliases]) | Q(pk__in=list(also))
    ).values("pk")
    by_alias = AccountAlias.objects.filter(pseudonym__in=aliases).values("pupil_id")
    return (
        Pupil.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk__in=by_pseudonym.union(by_alias))
        .order_by("pk")
    )


def _alias_owners(aliases: Sequence[str]) -> dict[str, int]:
    if connection.vendor == "postgresql":
        return login_statements.alias_owners(aliases)
    return dict(
        AccountAlias.objects.filter(pseudonym__in=aliases).values_list("pseudonym", "pupil_id")
    )


def _locked_pupils(pseudonym: str, aliases: Sequence[str]) -> tuple[dict[int, Pupil], dict]:
    """The pupils this login reaches, locked, and which pupil owns each known alias."""
    also: set[int] = set()
    for _attempt in range(_LOOKUP_ATTEMPTS):
        # The pupils are locked first; only then are the aliases read (see the docstring).
        pupils = {pupil.pk: pupil for pupil in _reached_pupils(pseudonym, aliases, also)}
        owners = _alias_owners(aliases)
        unlocked = set(owners.values()) - pupils.keys()
        if not unlocked:
            return pupils, owners
        # A merge moved an alias between our two reads: lock its new owner as well.
        also |= unlocked
    raise PupilLookupConflict


def _survivor(
    claims: LeerIDClaims,
    pseudonym: str,
    aliases: Sequence[str],
    pupils: dict[int, Pupil],
    owners: dict[str, int],
) -> tuple[Pupil | None, dict[int, Pupil]]:
    """The pupil this login is, and the temporary pupils to merge into it (by pk)."""
    own = next((pupil for pupil in pupils.values() if pupil.pseudonym == pseudonym), None)
    if not claims.identified:
        # A temporary login never merges: account keys alone do not prove who the pupil is.
        # Known by its account key as an alias (say, a pupil identified meanwhile), it is that
        # pupil; its learning path is there.
        if own is not None:
            return own, {}
        owner = next((owners[alias] for alias in aliases if alias in owners), None)
        return (pupils[owner] if owner is not None else None), {}

    temporaries = [
        pupil
        for pupil in pupils.values()
        if pupil.kind == Pupil.Kind.TEMPORARY and pupil is not own
    ]
    if own is None and temporaries:
        # First identified login of a temporary pupil: it becomes the identified pupil in place,
        # so its public_id (and the learning path keyed on it) stays. The one keyed on the
        # current account is preferred, else the oldest.
        own = next((pupil for pupil in temporaries if pupil.pseudonym == aliases[0]), None)
        own = own or temporaries[0]
    return own, {pupil.pk: pupil for pupil in temporaries if pupil is not own}


def _pupil_create(*, pseudonym: str, kind: str, now) -> Pupil:
    public_id = uuid.uuid4()
    # The Django user carries nothing personal: a random name, no password, no e-mail, no names.
    user = get_user_model()(username=f"pupil-{public_id.hex}", is_staff=False, is_superuser=False)
    user.set_unusable_password()
    user.save()
    return Pupil.objects.create(
        public_id=public_id, pseudonym=pseudonym, kind=kind, user=user, last_login_at=now
    )


def _pupil_convert(pupil: Pupil, *, pseudonym: str) -> None:
    """A temporary pupil, now identified, is re-keyed on its LeerID key; it keeps its public_id."""
    old = pupil.pseudonym
    pupil.pseudonym = pseudonym
    pupil.kind = Pupil.Kind.IDENTIFIED
    # The privacy log followed this pupil under the old pseudonym: the entry links the two.
    privacy.log(
        "pupil_merged",
        actor=f"pupil:{pseudonym}",
        subject=pseudonym,
        details={"merged_pseudonym": old, "in_place": True},
    )
    logger.info("temporary pupil %s identified as %s", short(old), short(pseudonym))


def _pupil_merge(temporary: Pupil, *, into: Pupil) -> None:
    """Fold a temporary pupil into ``into``; the rest of i-Learn re-keys on the signal."""
    AccountAlias.objects.filter(pupil=temporary).update(pupil=into)
    # Sent before the delete, so receivers can still move rows that cascade with the pupil.
    pupil_merged.send(sender=Pupil, survivor=into, merged_public_id=temporary.public_id)
    privacy.log(
        "pupil_merged",
        actor=f"pupil:{into.pseudonym}",
        subject=into.pseudonym,
        details={"merged_pseudonym": temporary.pseudonym, "in_place": False},
    )
    # Deleting the user cascades to the pupil and what it owns (its snapshot).
    get_user_model().objects.filter(pk=temporary.user_id).delete()
    pupil_admin_log_forget(pupil_ids=[temporary.pk], user_ids=[temporary.user_id])
    logger.info(
        "temporary pupil %s merged into %s", short(temporary.pseudonym), short(into.pseudonym)
    )


def _aliases_register(
    survivor: Pupil, aliases: Sequence[str], owners: dict[str, int], *, take_over: bool
) -> None:
    new = [alias for alias in aliases if alias not in owners]
    if new:
        AccountAlias.objects.bulk_create(
            [AccountAlias(pupil=survivor, pseudonym=alias) for alias in new]
        )
    # LeerID's latest word on an identified pupil's accounts wins over what we knew; a temporary
    # login takes no alias from anyone.
    taken = [alias for alias in aliases if owners.get(alias, survivor.pk) != survivor.pk]
    if take_over and taken:
        AccountAlias.objects.filter(pseudonym__in=taken).update(pupil=survivor)


def _snapshot_replace(
    pupil: Pupil, *, claims: LeerIDClaims, granted: list[str], now
) -> IdentitySnapshot:
    """Replace the pupil's snapshot in one upsert: only the last login's data is kept."""
    snapshot = IdentitySnapshot(
        pupil=pupil,
        family_name=claims.family_name,
        given_name=claims.given_name,
        leer_id_uuid=claims.leer_id_uuid,
        account_uuid=claims.account_uuid,
        historiek_account_uuids=list(claims.historiek_account_uuids),
        enrollments=list(claims.enrollments),
        granted_schools=granted,
        login_at=now,
    )
    if connection.vendor == "postgresql":
        login_statements.snapshot_upsert(snapshot, _SNAPSHOT_FIELDS)
    else:
        IdentitySnapshot.objects.bulk_create(
            [snapshot],
            update_conflicts=True,
            unique_fields=["pupil"],
            update_fields=_SNAPSHOT_FIELDS,
        )
    return snapshot


# --- Support and DPO ------------------------------------------------------------------------


def pupil_export(*, pupil: Pupil, actor: str, reference: str = "") -> dict[str, Any]:
    """Everything we hold about one pupil, for the DPO to hand over (logged, with the
    request's ``reference``, e.g. a ticket number, when given)."""
    snapshot = IdentitySnapshot.objects.filter(pupil=pupil).first()
    data: dict[str, Any] = {
        "public_id": str(pupil.public_id),
        "pseudonym": pupil.pseudonym,
        "kind": pupil.kind,
        "created_at": pupil.created_at.isoformat(),
        "last_login_at": pupil.last_login_at.isoformat(),
        "account_aliases": sorted(pupil.aliases.values_list("pseudonym", flat=True)),
        "identity_snapshot": None,
    }
    if snapshot is not None:
        data["identity_snapshot"] = {
            "family_name": snapshot.family_name,
            "given_name": snapshot.given_name,
            "leer_id_uuid": str(snapshot.leer_id_uuid) if snapshot.leer_id_uuid else None,
            "account_uuid": str(snapshot.account_uuid),
            "historiek_account_uuids": snapshot.historiek_account_uuids,
            "enrollments": snapshot.enrollments,
            "granted_schools": snapshot.granted_schools,
            "login_at": snapshot.login_at.isoformat(),
        }
    privacy.log(
        "sensitive_export", actor=actor, subject=pupil.pseudonym, details=_request(reference)
    )
    return data


@transaction.atomic
def pupil_erase(*, pupil: Pupil, actor: str, reason: str = "", reference: str = "") -> None:
    """Delete a pupil with its user and everything it owns (logged, by pseudonym, with the
    request's ``reference`` when given), and enter its pseudonyms in the erasure ledger so that
    a restored backup cannot bring it back. The user's sessions stop working at their next
    request (the user they name is gone)."""
    # Locks in the order a login takes them: the pupil row, then what hangs on it, then the
    # privacy-log head. Deleting without the pupil lock would lock the snapshot first and
    # deadlock with a login of this pupil. Same transaction: no delete without its log entry.
    user_id = (
        Pupil.objects.select_for_update().filter(pk=pupil.pk).values_list("user_id", flat=True)
    ).first()
    if user_id is None:
        return  # already gone (merged, erased or purged meanwhile)
    # The aliases too: a backup may hold this pupil still as a temporary account keyed on one.
    aliases = AccountAlias.objects.filter(pupil_id=pupil.pk).values_list("pseudonym", flat=True)
    erasure_record(pseudonyms=[pupil.pseudonym, *aliases])
    get_user_model().objects.filter(pk=user_id).delete()
    pupil_admin_log_forget(pupil_ids=[pupil.pk], user_ids=[user_id])
    privacy.log(
        "sensitive_delete",
        actor=actor,
        subject=pupil.pseudonym,
        reason=reason,
        details=_request(reference),
    )


def pupil_apply_erasures(*, batch_size: int = 500) -> int:
    """Erase again every pupil the erasure ledger names, by pseudonym or account alias; return
    how many. Run after restoring a backup (``manage.py apply_erasures``); idempotent."""
    pseudonyms = erased_pseudonyms()
    erased = 0
    for start in range(0, len(pseudonyms), batch_size):
        chunk = pseudonyms[start : start + batch_size]
        owners = AccountAlias.objects.filter(pseudonym__in=chunk).values("pupil_id")
        for pupil in Pupil.objects.filter(Q(pseudonym__in=chunk) | Q(pk__in=owners)):
            pupil_erase(pupil=pupil, actor="system", reason="erasure_ledger")
            erased += 1
    return erased


def pupil_admin_log_forget(*, pupil_ids: Iterable[int], user_ids: Iterable[int]) -> int:
    """Delete the ``django_admin_log`` rows about these pupils and their users; how many.

    The admin writes none about pupils (``PupilAdmin``), but older versions did ("leerling
    <pseudonym prefix>"): when an account goes (erasure, merge, the 3-year rule), they go too.
    """
    pupil_type = ContentType.objects.get_for_model(Pupil)
    user_type = ContentType.objects.get_for_model(get_user_model())
    deleted, _ = LogEntry.objects.filter(
        Q(content_type=pupil_type, object_id__in=[str(pk) for pk in pupil_ids])
        | Q(content_type=user_type, object_id__in=[str(pk) for pk in user_ids])
    ).delete()
    return deleted


def _request(reference: str) -> dict[str, str]:
    """Privacy-log details naming the data subject's request (``privacy.log`` checks them)."""
    return {"reference": reference} if reference else {}
