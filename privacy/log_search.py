"""The DPO's searches and the admin's filters over the privacy log, each on an index at scale.

Filters go to the stored columns (``*_code``, ``failed``, ``period``) with constants the planner
can match against the partial indexes (migration 0009), never to the view's text columns:
``subject = '<pseudonym>'`` on the view would join the dictionary first and could not use the
rare-action or actor indexes. An unknown value matches nothing without touching the log.

- by pupil: their pseudonym's id (``privacy_log_subject_id``; as actor of their own entries
  too, which are stored as actor 0);
- by staff member, system or other actor: ``privacy_log_actor_id`` (partial: actor <> 0);
- by action: ``privacy_log_rare_action``; the two bulk actions read newest first and skip;
- failures: ``privacy_log_failed``; a date range: the BRIN on ``created_at`` and the months
  give its first and last sequence numbers, then the sequence index pages newest first;
- by request id: only the last ``REQUEST_ID_MONTHS`` months (no index: request ids are for
  matching application logs, which are kept far shorter than the privacy log).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.core.paginator import Paginator
from django.db.models import F, Max, Min, Q, QuerySet
from django.utils.functional import cached_property

from privacy import storage
from privacy.models import PrivacyLogEntry, PrivacyLogRecord, PrivacyLogText

REQUEST_ID_MONTHS = 2
COUNT_LIMIT = 10_000
_PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def text_code(value: str) -> int | None:
    return PrivacyLogText.objects.filter(value=value).values_list("id", flat=True).first()


def by_term(entries: QuerySet, term: str) -> QuerySet:
    """A pseudonym, an actor (``staff:12``), a subject key (``school:012345``) or a request id."""
    if _PSEUDONYM.match(term):
        subject, actor = text_code(term), text_code(f"pupil:{term}")
        match = Q(subject_code=subject) if subject else Q()
        if actor:
            match = match | Q(actor_code=actor) if match else Q(actor_code=actor)
        return entries.filter(match) if match else entries.none()
    found = Q()
    if code := text_code(term):
        found = Q(actor_code=code) | Q(subject_code=code)
    if _REQUEST_ID.match(term):
        recent = storage.period_of(datetime.now(UTC)) - REQUEST_ID_MONTHS + 1
        by_request = Q(period__gte=recent, request_id_raw=storage.request_id_bytes(term))
        found = found | by_request if found else by_request
    return entries.filter(found) if found else entries.none()


def by_action(entries: QuerySet, action: str) -> QuerySet:
    code = text_code(action)
    return entries.filter(action_code=code) if code else entries.none()


def by_outcome(entries: QuerySet, outcome: str) -> QuerySet:
    return entries.filter(failed=outcome == PrivacyLogEntry.Outcome.FAILURE)


def by_actor(entries: QuerySet, actor: str) -> QuerySet:
    """``system``, ``staff:12``, or every ``pupil:`` / ``staff:`` actor."""
    if actor == "pupil:":
        others = _codes_starting("pupil:")
        return entries.filter(Q(actor_code=storage.SELF_ACTOR) | Q(actor_code__in=others))
    if actor.endswith(":"):
        return entries.filter(actor_code__in=_codes_starting(actor))
    code = text_code(actor)
    return entries.filter(actor_code=code) if code else entries.none()


def by_dates(entries: QuerySet, start: datetime | None, end: datetime | None) -> QuerySet:
    """From ``start`` (inclusive) to ``end`` (exclusive); months before ``start`` are skipped."""
    if start:
        # An entry is filed under its own month or a later one, never an earlier one.
        entries = entries.filter(created_at__gte=start, period__gte=storage.period_of(start))
        # Newest first within a day of long ago: read the day's sequence numbers off the BRIN
        # first, or the planner walks the sequence index back from the head (0.7 s at 10 M).
        span = PrivacyLogRecord.objects.filter(
            created_at__gte=start, period__gte=storage.period_of(start)
        )
        if end:
            span = span.filter(created_at__lt=end)
        # "+ 0": an aggregate over the rows the BRIN finds, not a walk of the sequence index.
        bounds = span.aggregate(low=Min(F("sequence") + 0), high=Max(F("sequence") + 0))
        if bounds["low"] is None:
            return entries.none()
        entries = entries.filter(sequence__gte=bounds["low"], sequence__lte=bounds["high"])
    if end:
        entries = entries.filter(created_at__lt=end)
    return entries


def _codes_starting(prefix: str) -> list[int]:
    # Staff members are few; pupils acting on others' entries are rare.
    return list(
        PrivacyLogText.objects.filter(value__startswith=prefix).values_list("id", flat=True)
    )


class CappedPaginator(Paginator):
    """Counts up to ``COUNT_LIMIT`` entries: an exact count of millions takes seconds."""

    @cached_property
    def count(self) -> int:
        return self.object_list[: COUNT_LIMIT + 1].count()
