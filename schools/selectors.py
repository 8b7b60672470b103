"""Reads about agreements: which are in force, expiring, expired, ... on a given day."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from schools.models import Agreement, School

EXPIRING_WITHIN_DAYS = 30


class State:
    """The states staff filter on. Values appear in admin URLs (``?state=expiring``)."""

    IN_FORCE = "in_force"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    NOT_STARTED = "not_started"
    SUSPENDED = "suspended"
    NONE = "none"

    LABELS = {
        IN_FORCE: _("van kracht vandaag"),
        EXPIRING: _("loopt af binnen 30 dagen"),  # EXPIRING_WITHIN_DAYS
        EXPIRED: _("verlopen"),
        NOT_STARTED: _("nog niet gestart"),
        SUSPENDED: _("opgeschort"),
        NONE: _("zonder overeenkomst"),
    }


def in_force_q(on: dt.date, prefix: str = "") -> Q:
    """The one definition of "in force": active, and ``on`` within the inclusive period."""
    return Q(**{f"{prefix}status": Agreement.Status.ACTIVE, f"{prefix}valid_from__lte": on}) & (
        Q(**{f"{prefix}valid_until__isnull": True}) | Q(**{f"{prefix}valid_until__gte": on})
    )


def agreement_state_q(state: str, *, on: dt.date) -> Q:
    if state == State.IN_FORCE:
        return in_force_q(on)
    if state == State.EXPIRING:
        until = on + dt.timedelta(days=EXPIRING_WITHIN_DAYS)
        return in_force_q(on) & Q(valid_until__lte=until)
    if state == State.EXPIRED:
        return Q(valid_until__lt=on)
    if state == State.NOT_STARTED:
        return Q(valid_from__gt=on)
    if state == State.SUSPENDED:
        return Q(status=Agreement.Status.SUSPENDED)
    raise ValueError(state)


def schools_in_state(state: str, *, on: dt.date, queryset: QuerySet[School] | None = None):
    """Schools by the state of their agreements.

    "Expired" and "not yet started" mean: such an agreement and none in force today, so a
    school with a running follow-up agreement does not show as expired.
    """
    queryset = School.objects.all() if queryset is None else queryset
    own = Agreement.objects.filter(school=OuterRef("pk"))
    if state == State.NONE:
        return queryset.filter(~Exists(own))
    matching = Exists(own.filter(agreement_state_q(state, on=on)))
    if state in (State.EXPIRED, State.NOT_STARTED):
        return queryset.filter(matching & ~Exists(own.filter(in_force_q(on))))
    return queryset.filter(matching)


# The order in which one agreement's state is decided: suspended wins over dates, and an
# agreement in force that ends soon shows as expiring.
_STATE_PRECEDENCE = (State.SUSPENDED, State.NOT_STARTED, State.EXPIRED, State.EXPIRING)


def agreement_state(agreement: Agreement, *, on: dt.date) -> str:
    """The single state shown for one agreement: the first of ``_STATE_PRECEDENCE`` whose
    ``agreement_state_q`` it matches, else in force (an active agreement that has started and
    not ended is exactly what ``in_force_q`` says)."""
    for state in _STATE_PRECEDENCE:
        if _holds(agreement_state_q(state, on=on), agreement):
            return state
    return State.IN_FORCE


def agreement_is_in_force(agreement: Agreement, *, on: dt.date) -> bool:
    """Whether one agreement (already loaded) is in force on ``on``, by ``in_force_q`` itself."""
    return _holds(in_force_q(on), agreement)


_LOOKUPS = {
    "exact": operator.eq,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def _holds(condition: Q, agreement: Agreement) -> bool:
    """Evaluate a ``Q`` of plain field lookups on a loaded agreement, as the database would.

    So that a rule written once as a query also decides about one agreement in memory. Only
    the lookups the rules above use; a NULL compares false, as in SQL.
    """
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(_holds(child, agreement))
            continue
        lookup, expected = child
        name, _sep, kind = lookup.partition("__")
        value = getattr(agreement, name)
        if kind == "isnull":
            results.append((value is None) == expected)
        else:
            results.append(value is not None and _LOOKUPS[kind or "exact"](value, expected))
    result = all(results) if condition.connector == Q.AND else any(results)
    return not result if condition.negated else result


def agreements_overlapping(agreement: Agreement, others: Iterable[Agreement]) -> list[Agreement]:
    """Those of ``others`` (not ``agreement`` itself) whose periods share at least one day with
    ``agreement``'s: each starts before (or on the day) the other ends; no end is open-ended."""
    end = agreement.valid_until or dt.date.max
    return [
        other
        for other in others
        if other is not agreement
        and (other.pk is None or other.pk != agreement.pk)
        and other.valid_from <= end
        and (other.valid_until or dt.date.max) >= agreement.valid_from
    ]


def agreement_overlaps(agreement: Agreement) -> list[Agreement]:
    """Other agreements of the same school whose periods share at least one day with this one.

    Overlaps are allowed (a renewal signed before the old one ends) but staff should see them.
    """
    if not agreement.school_id or not agreement.valid_from:
        return []
    # A school has a handful of agreements: the rule is applied in memory, in one place.
    own = Agreement.objects.filter(school_id=agreement.school_id).order_by("valid_from")
    return agreements_overlapping(agreement, own)


def agreements_expiring(*, on: dt.date, days: int = EXPIRING_WITHIN_DAYS) -> list[Agreement]:
    """Agreements in force on ``on`` that end within ``days``, soonest first.

    Each carries ``successor``: another active agreement of the same school that covers the
    day after this one ends (None when the school will lose access).
    """
    until = on + dt.timedelta(days=days)
    expiring = list(
        Agreement.objects.filter(in_force_q(on), valid_until__lte=until)
        .select_related("school")
        .order_by("valid_until", "school__instellingsnummer")
    )
    school_ids = {agreement.school_id for agreement in expiring}
    candidates = Agreement.objects.filter(
        school_id__in=school_ids, status=Agreement.Status.ACTIVE
    ).order_by("valid_from")
    by_school: dict[int, list[Agreement]] = {}
    for candidate in candidates:
        by_school.setdefault(candidate.school_id, []).append(candidate)
    for agreement in expiring:
        day_after = agreement.valid_until + dt.timedelta(days=1)
        agreement.successor = next(
            (
                other
                for other in by_school.get(agreement.school_id, [])
                if other.pk != agreement.pk and agreement_is_in_force(other, on=day_after)
            ),
            None,
        )
        agreement.days_left = (agreement.valid_until - on).days
    return expiring


def school_states(numbers: Iterable[str], *, on: dt.date) -> dict[str, str]:
    """Each school number's state on ``on``, as Support reads it beside a refusal.

    A school is in force when one of its agreements is; otherwise suspended, not yet started
    or expired when one of its agreements is (in that order); otherwise (no agreement, or a
    number we do not know) without agreement. Two queries, whatever the count.
    """
    wanted = sorted(set(numbers))
    agreements: dict[str, list[Agreement]] = {number: [] for number in wanted}
    for agreement in Agreement.objects.filter(school__instellingsnummer__in=wanted).select_related(
        "school"
    ):
        agreements[agreement.school.instellingsnummer].append(agreement)
    states = {}
    for number, own in agreements.items():
        found = {agreement_state(agreement, on=on) for agreement in own}
        if found & {State.IN_FORCE, State.EXPIRING}:
            states[number] = State.IN_FORCE
        else:
            order = (State.SUSPENDED, State.NOT_STARTED, State.EXPIRED)
            states[number] = next((state for state in order if state in found), State.NONE)
    return states


def school_names(numbers: list[str]) -> dict[str, str]:
    """The names of the schools we know among these instellingsnummers, by number."""
    schools = School.objects.filter(instellingsnummer__in=numbers)
    return dict(schools.values_list("instellingsnummer", "name"))
