"""The DPO's admin: the privacy log read-only for everyone, the registers editable with logging.

The log has only a ``view`` permission (see the model's Meta) and every ``has_*_permission``
here except view answers False, so superusers cannot add, change or delete entries either.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime, time, timedelta

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from privacy import actions, chain, log_search
from privacy.audit import staff_actor
from privacy.csv_cells import guard
from privacy.models import (
    PrivacyLogCheckpoint,
    PrivacyLogEntry,
)
from privacy.pseudonyms import short, typed_key_pseudonym
from privacy.reasons import reason_label
from privacy.selectors import privacy_log_last_verified_head
from privacy.selfcheck import privacy_log_verify_since
from privacy.services import privacy_log_write

_PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")
_CSV_COLUMNS = (*chain.FIELDS, "hash")


class ActionFilter(admin.SimpleListFilter):
    title = _("actie")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return list(actions.ACTIONS.items())

    def queryset(self, request, queryset):
        return log_search.by_action(queryset, self.value()) if self.value() else queryset


class OutcomeFilter(admin.SimpleListFilter):
    title = _("resultaat")
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return PrivacyLogEntry.Outcome.choices

    def queryset(self, request, queryset):
        return log_search.by_outcome(queryset, self.value()) if self.value() else queryset


class ActorFilter(admin.SimpleListFilter):
    title = _("actor")
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        from django.contrib.auth import get_user_model

        staff = get_user_model().objects.filter(is_staff=True).order_by("pk")
        return [
            ("system", _("het systeem")),
            ("pupil:", _("een leerling")),
            ("staff:", _("een medewerker")),
            *((f"staff:{user.pk}", f"staff:{user.pk} ({user.get_username()})") for user in staff),
        ]

    def queryset(self, request, queryset):
        return log_search.by_actor(queryset, self.value()) if self.value() else queryset


class DateRangeFilter(admin.FieldListFilter):
    """From and until (inclusive) dates in Brussels time; a plain GET form in the sidebar."""

    template = "admin/privacy/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.param_from = f"{field_path}__from"
        self.param_until = f"{field_path}__until"
        super().__init__(field, request, params, model, model_admin, field_path)

    def expected_parameters(self):
        return [self.param_from, self.param_until]

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {}

    def queryset(self, request, queryset):
        start, end = self._date(self.param_from), self._date(self.param_until)
        return log_search.by_dates(
            queryset,
            _midnight(start) if start else None,
            _midnight(end + timedelta(days=1)) if end else None,
        )

    def choices(self, changelist):
        mine = set(self.expected_parameters())
        yield {
            "param_from": self.param_from,
            "param_until": self.param_until,
            "value_from": self._raw(self.param_from),
            "value_until": self._raw(self.param_until),
            "hidden": [(k, v) for k, v in changelist.params.items() if k not in mine],
        }

    def _raw(self, name: str) -> str:
        value = self.used_parameters.get(name) or [""]
        return value[-1] if isinstance(value, list) else value

    def _date(self, name: str):
        raw = self._raw(name)
        if not raw:
            return None
        try:
            parsed = parse_date(raw)
        except ValueError:
            parsed = None
        if parsed is None:
            raise IncorrectLookupParameters(f"{name} must be a date (YYYY-MM-DD)")
        return parsed


def _short(value: str) -> str:
    """A pseudonym's start (enough to tell pupils apart in a list); else as is."""
    return short(value) + "…" if _PSEUDONYM.match(value) else value


def _midnight(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@admin.register(PrivacyLogEntry)
class PrivacyLogEntryAdmin(admin.ModelAdmin):
    # At 1280 px beside the filters: short pseudonyms and labels, the full entry on its page.
    list_display = (
        "sequence",
        "moment",
        "action_label",
        "outcome",
        "reason_label",
        "short_actor",
        "short_subject",
    )
    list_display_links = ("sequence",)
    list_filter = (ActionFilter, OutcomeFilter, ("created_at", DateRangeFilter), ActorFilter)
    search_fields = ("subject",)  # the search itself is get_search_results below
    search_help_text = _(
        "Pseudoniem, LeerID-sleutel (met of zonder streepjes; meteen gehasht, nooit bewaard), "
        "actor (staff:12), onderwerp (school:012345) of request-id."
    )
    list_per_page = 100
    show_full_result_count = False
    paginator = log_search.CappedPaginator
    ordering = ("-sequence",)
    actions = ("export_csv",)
    # The detail page: one row per field, labels beside codes, pseudonyms in full.
    fields = (
        "sequence",
        "created_at",
        "action_with_code",
        "outcome",
        "reason_with_code",
        "actor",
        "subject",
        "details",
        "request_id",
        "hash",
    )
    readonly_fields = fields

    @admin.display(description=_("actie"), ordering="action")
    def action_label(self, entry: PrivacyLogEntry) -> str:
        return entry.action_label

    @admin.display(description=_("tijdstip"), ordering="created_at")
    def moment(self, entry: PrivacyLogEntry) -> str:
        # dd-mm-jjjj uu:mm:ss in Brussels time: a third of the width of "6 december 2026 10:15".
        return date_format(timezone.localtime(entry.created_at), "d-m-Y H:i:s")

    @admin.display(description=_("actie"))
    def action_with_code(self, entry: PrivacyLogEntry) -> str:
        return f"{entry.action_label} ({entry.action})"

    @admin.display(description=_("reden"), ordering="reason")
    def reason_label(self, entry: PrivacyLogEntry) -> str:
        return reason_label(entry.reason) if entry.reason else "-"

    @admin.display(description=_("reden"))
    def reason_with_code(self, entry: PrivacyLogEntry) -> str:
        return f"{reason_label(entry.reason)} ({entry.reason})" if entry.reason else "-"

    @admin.display(description=_("actor"), ordering="actor")
    def short_actor(self, entry: PrivacyLogEntry) -> str:
        kind, _sep, rest = entry.actor.partition(":")
        return f"{kind}:{_short(rest)}" if rest else entry.actor

    @admin.display(description=_("betrokkene"), ordering="subject")
    def short_subject(self, entry: PrivacyLogEntry) -> str:
        return _short(entry.subject)

    # --- Read-only for everyone ------------------------------------------------------------------
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # No URL filter into the free-form details (?details__contains=...): SQLite has no JSON
        # containment (it answered 500), and on PostgreSQL it would scan the whole log. The
        # filters on the right and the search box are the ways in; this one is a 400.
        if lookup.split(LOOKUP_SEP, 1)[0] == "details":
            return False
        return super().lookup_allowed(lookup, value, request)

    # --- Search: by POST only, LeerID keys hashed on the fly ------------------------------------
    # The search box posts to ``search_key_view``, which hashes a key (either spelling) and
    # comes back with ``?q=<pseudonym>``: a key is in no URL, history or access log.

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return log_search.by_term(queryset, typed_key_pseudonym(term) or term), False

    def changelist_view(self, request, extra_context=None):
        if typed_key_pseudonym(request.GET.get(SEARCH_VAR, "")) is not None:
            # A key typed into a URL by hand: not searched for (only the POST box takes keys).
            params = request.GET.copy()
            del params[SEARCH_VAR]
            messages.error(
                request,
                _(
                    "Een LeerID-sleutel zoek je met het zoekvak op deze pagina, niet in de URL. "
                    "Wis deze pagina uit je browsergeschiedenis."
                ),
            )
            return HttpResponseRedirect(f"{request.path}?{params.urlencode()}")
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "search-key/",
                self.admin_site.admin_view(require_POST(self.search_key_view)),
                name="privacy_privacylogentry_search_key",
            ),
            path(
                "verify/",
                self.admin_site.admin_view(require_POST(self.verify_view)),
                name="privacy_privacylogentry_verify",
            ),
            *super().get_urls(),
        ]

    def search_key_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """The search box: a key becomes its pseudonym; the filters in force are kept."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:privacy_privacylogentry_changelist")
        term = request.POST.get(SEARCH_VAR, "").strip()
        params = {
            name: value
            for name, value in request.POST.items()
            if name not in (SEARCH_VAR, "csrfmiddlewaretoken")
        }
        if term:
            params[SEARCH_VAR] = typed_key_pseudonym(term) or term
        return HttpResponseRedirect(f"{changelist}?{urlencode(params)}" if params else changelist)

    # --- Keten controleren: verify the chain now, show and log the head -----------------------
    def verify_view(self, request: HttpRequest) -> HttpResponseRedirect:
        if not self.has_view_permission(request):
            raise PermissionDenied("privacy.view_privacylogentry")
        # From the newest head any check recorded (this button, the daily self-check,
        # verify_privacy_log): a rewritten or cut chain since then is caught too.
        since = privacy_log_last_verified_head()
        result = privacy_log_verify_since(since)
        problem = result.problem
        privacy_log_write(
            action=actions.PRIVACY_LOG_VERIFIED,
            actor=staff_actor(request.user),
            outcome="success" if result.ok else "failure",
            reason="" if result.ok else problem.kind,
            details={
                "entries": result.count,
                "since_sequence": since.sequence if since else None,
                "head_sequence": result.head.sequence,
                "head_hash": result.head.hash,
                **(
                    {"problem_sequence": problem.sequence, "problem_kind": problem.kind}
                    if problem
                    else {}
                ),
            },
        )
        values = {"count": result.count, "sequence": result.head.sequence}
        values["hash"] = result.head.hash
        if result.ok:
            messages.success(
                request,
                _(
                    "De keten is in orde: %(count)s regels gecontroleerd. Kop: volgnummer "
                    "%(sequence)s, hash %(hash)s. Bewaar die hash elders (ticket, mail)."
                )
                % values,
            )
        else:
            messages.error(
                request,
                _("De keten is gebroken bij volgnummer %(at)s: %(kind)s (%(detail)s).")
                % {
                    "at": problem.sequence,
                    "kind": reason_label(problem.kind),
                    "detail": problem.detail,
                },
            )
        return HttpResponseRedirect(reverse("admin:privacy_privacylogentry_changelist"))

    # --- Export --------------------------------------------------------------------------------
    @admin.action(description=_("Exporteer als CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        count = queryset.count()
        privacy_log_write(
            action=actions.PRIVACY_LOG_EXPORT,
            actor=staff_actor(request.user),
            details={"entries": count, "format": "csv"},
        )
        rows = queryset.order_by("sequence").values_list(*_CSV_COLUMNS).iterator(chunk_size=2000)
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="privacylog-{stamp}.csv"'
        return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows):
    writer = csv.writer(_Echo())
    yield writer.writerow(_CSV_COLUMNS)
    for row in rows:
        values = dict(zip(_CSV_COLUMNS, row, strict=True))
        values["created_at"] = chain.timestamp(values["created_at"])
        values["details"] = chain.dumps(values["details"])
        yield writer.writerow([guard(str(value)) for value in values.values()])


@admin.register(PrivacyLogCheckpoint)
class PrivacyLogCheckpointAdmin(admin.ModelAdmin):
    list_display = ("sequence", "hash", "pruned_at", "entries_removed")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# The registers (breaches, processors, activities, data quality): a module of their own.
from privacy import register_admin  # noqa: E402, F401
