"""Pupils in the admin, for Support and the DPO: find, look up, export, erase. Read-only.

- The list shows pseudonyms, kinds and dates; never a name.
- A pupil is found by pseudonym (or its first 12+ characters) or by a LeerID or account key,
  typed into a POST form and hashed on the fly, so a key never lands in a URL or access log.
- The detail page shows the snapshot only to holders of ``pupils.view_identitysnapshot``, and
  logs every such view (``sensitive_read``). Keys are shown as short fingerprints (the first
  12 characters of their pseudonym), never in clear: Support needs to tell keys apart and to
  match a typed key, not to read one (protocol article 4). The DPO's export holds them whole.
- A pupil is also found by public id (same form) or by school (``?q=012345``: the schools of
  the last login's enrollments; a school number is not personal).
- DPO only, from the pupil's page: export its data as JSON (``sensitive_export``) and erase it
  with its user (``sensitive_delete``), each after typing the request's reference, which goes
  into the privacy-log entry. No bulk erase: the admin's delete (and "delete selected") is off.
- Pupils' own Django users are not staff and are left out of the user list.
"""

from __future__ import annotations

import json
import re

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from privacy.audit import log_sensitive_read, staff_actor
from privacy.pseudonyms import fingerprint, short
from pupils.forms import RequestReferenceForm
from pupils.models import IdentitySnapshot, Pupil
from pupils.selectors import pupils_at_school, pupils_matching
from pupils.services import pupil_erase, pupil_export

_BASE_FIELDS = ("public_id", "pseudonym", "kind", "created_at", "last_login_at", "alias_count")
_SNAPSHOT_FIELDS = (
    "snapshot_family_name",
    "snapshot_given_name",
    "snapshot_leer_id_uuid",
    "snapshot_account_uuid",
    "snapshot_historiek",
    "snapshot_enrollments",
    "snapshot_granted_schools",
    "snapshot_login_at",
)
SNAPSHOT_PERMISSION = "pupils.view_identitysnapshot"
EXPORT_PERMISSION = "pupils.export_pupil"
_SCHOOL_NUMBER = re.compile(r"^[0-9]{1,6}$")
ERASE_PERMISSION = "pupils.delete_pupil"


@admin.register(Pupil)
class PupilAdmin(admin.ModelAdmin):
    list_display = ("short_pseudonym", "kind", "last_login_at", "created_at")
    list_filter = ("kind",)
    ordering = ("-last_login_at",)
    actions = None  # no bulk erase, no bulk export: one pupil, one request, one reference
    search_fields = ("public_id",)  # the search itself is get_search_results below
    search_help_text = _("Schoolnummer (instellingsnummer), bv. 012345")
    change_list_template = "admin/pupils/pupil/change_list.html"
    change_form_template = "admin/pupils/pupil/change_form.html"
    # A million pupils: one count per page is enough.
    show_full_result_count = False

    @admin.display(description=_("pseudoniem"), ordering="pseudonym")
    def short_pseudonym(self, pupil: Pupil) -> str:
        return short(pupil.pseudonym)

    @admin.display(description=_("account-aliassen"))
    def alias_count(self, pupil: Pupil) -> int:
        return pupil.aliases.count()

    # --- Read-only, names only with the snapshot permission ---------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Erasure is its own page (erase_view), one pupil at a time with a request reference.
        return False

    def may_export(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

    def may_erase(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ERASE_PERMISSION)

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        """``?q=`` is a school number (zeros restored, as a spreadsheet drops them); keys and
        pseudonyms go through the POST form, so they stay out of URLs."""
        term = search_term.strip()
        if not term:
            return queryset, False
        # Six digits; fewer are a number a spreadsheet dropped the leading zeros of.
        number = term.zfill(6) if _SCHOOL_NUMBER.match(term) else None
        if number is None:
            messages.warning(
                request, _("Zoek hier op schoolnummer; een sleutel of id in het formulier erboven.")
            )
            return queryset.none(), False
        return queryset & pupils_at_school(number), False

    def may_see_snapshot(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SNAPSHOT_PERMISSION)

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is not None and self.may_see_snapshot(request):
            return _BASE_FIELDS + _SNAPSHOT_FIELDS
        return _BASE_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.get_fields(request, obj)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_export": self.may_export(request),
            "may_erase": self.may_erase(request),
        }
        pupil = self.get_object(request, object_id)
        if (
            pupil is not None
            and self.has_view_permission(request, pupil)
            and self.may_see_snapshot(request)
            and IdentitySnapshot.objects.filter(pupil=pupil).exists()
        ):
            # Logged before the page is built: no log entry, no names shown.
            log_sensitive_read(request, subject=pupil.pseudonym, page="admin:pupils_pupil_change")
        return super().change_view(request, object_id, form_url, extra_context)

    def _snapshot(self, pupil: Pupil) -> IdentitySnapshot | None:
        try:
            return pupil.snapshot
        except IdentitySnapshot.DoesNotExist:
            return None

    def _snapshot_value(self, pupil: Pupil, name: str):
        snapshot = self._snapshot(pupil)
        if snapshot is None:
            return "—"
        value = getattr(snapshot, name)
        if isinstance(value, list):
            return ", ".join(str(item) for item in value) or "—"
        return value if value not in (None, "") else "—"

    @admin.display(description=_("familienaam"))
    def snapshot_family_name(self, pupil: Pupil):
        return self._snapshot_value(pupil, "family_name")

    @admin.display(description=_("voornaam"))
    def snapshot_given_name(self, pupil: Pupil):
        return self._snapshot_value(pupil, "given_name")

    def _snapshot_fingerprints(self, pupil: Pupil, name: str) -> str:
        snapshot = self._snapshot(pupil)
        value = getattr(snapshot, name, None) if snapshot is not None else None
        keys = value if isinstance(value, list) else [value] if value else []
        return ", ".join(fingerprint(key) for key in keys) or "—"

    @admin.display(description=_("LeerID-sleutel (vingerafdruk)"))
    def snapshot_leer_id_uuid(self, pupil: Pupil):
        return self._snapshot_fingerprints(pupil, "leer_id_uuid")

    @admin.display(description=_("account-sleutel (vingerafdruk)"))
    def snapshot_account_uuid(self, pupil: Pupil):
        return self._snapshot_fingerprints(pupil, "account_uuid")

    @admin.display(description=_("vroegere account-sleutels (vingerafdrukken)"))
    def snapshot_historiek(self, pupil: Pupil):
        return self._snapshot_fingerprints(pupil, "historiek_account_uuids")

    @admin.display(description=_("inschrijvingen"))
    def snapshot_enrollments(self, pupil: Pupil):
        return self._snapshot_value(pupil, "enrollments")

    @admin.display(description=_("toegang via scholen"))
    def snapshot_granted_schools(self, pupil: Pupil):
        return self._snapshot_value(pupil, "granted_schools")

    @admin.display(description=_("laatste aanmelding (momentopname)"))
    def snapshot_login_at(self, pupil: Pupil):
        snapshot = self._snapshot(pupil)
        if snapshot is None:
            return "—"
        # Formatted in Brussels time like the admin's other times (raw it would show UTC).
        return date_format(timezone.localtime(snapshot.login_at), "DATETIME_FORMAT")

    # --- Find by pseudonym or key (POST, so no key in a URL) --------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("find/", view(require_POST(self.find_view)), name="pupils_pupil_find"),
            path("<int:pk>/export/", view(self.export_view), name="pupils_pupil_export"),
            path("<int:pk>/erase/", view(self.erase_view), name="pupils_pupil_erase"),
            *super().get_urls(),
        ]

    def find_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        found = list(pupils_matching(request.POST.get("key", ""))[:2])
        changelist = reverse("admin:pupils_pupil_changelist")
        if len(found) == 1:
            return HttpResponseRedirect(reverse("admin:pupils_pupil_change", args=[found[0].pk]))
        if found:
            messages.warning(request, _("Meer dan één leerling past: typ meer tekens."))
        else:
            messages.warning(
                request, _("Geen leerling gevonden voor die sleutel of dat pseudoniem.")
            )
        return HttpResponseRedirect(changelist)

    # --- DPO: export and erase, one pupil at a time, each with the request's reference --------

    def export_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.may_export(request):
            raise PermissionDenied(EXPORT_PERMISSION)
        pupil = get_object_or_404(Pupil, pk=pk)
        form = RequestReferenceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = pupil_export(
                pupil=pupil,
                actor=staff_actor(request.user),
                reference=form.cleaned_data["reference"],
            )
            response = HttpResponse(
                json.dumps(data, ensure_ascii=False, indent=2),
                content_type="application/json; charset=utf-8",
            )
            filename = f"pupil-{pupil.public_id}.json"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            response["Cache-Control"] = "no-store"
            return response
        return self._request_page(request, pupil, form, erase=False)

    # --- No django_admin_log rows about pupils ------------------------------------------------
    # A LogEntry keeps str(pupil) (a pseudonym prefix) forever, out of reach of the retention
    # rules. Pupils are read-only here; their erasure is in the privacy log (sensitive_delete,
    # with the DPO's retention), which is the record the protocol asks for.

    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return []

    def erase_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.may_erase(request):
            raise PermissionDenied(ERASE_PERMISSION)
        pupil = get_object_or_404(Pupil, pk=pk)
        form = RequestReferenceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reference = form.cleaned_data["reference"]
            pupil_erase(pupil=pupil, actor=staff_actor(request.user), reference=reference)
            messages.success(
                request,
                _("Leerling %(pupil)s is gewist (verzoek %(reference)s).")
                % {"pupil": short(pupil.pseudonym), "reference": reference},
            )
            return HttpResponseRedirect(reverse("admin:pupils_pupil_changelist"))
        return self._request_page(request, pupil, form, erase=True)

    def _request_page(self, request, pupil: Pupil, form, *, erase: bool) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": pupil,
            "title": _("Gegevens van een leerling wissen")
            if erase
            else _("Gegevens van een leerling exporteren"),
            "form": form,
            "erase": erase,
            "pupil": pupil,
            "short_pseudonym": short(pupil.pseudonym),
            "has_snapshot": IdentitySnapshot.objects.filter(pupil=pupil).exists(),
            "alias_count": pupil.aliases.count(),
            "user_name": pupil.user.get_username(),
            "change_url": reverse("admin:pupils_pupil_change", args=[pupil.pk]),
        }
        return TemplateResponse(request, "admin/pupils/pupil/request.html", context)


# --- Pupils' users stay out of the staff user list --------------------------------------------

User = get_user_model()
_registered_user_admin = admin.site._registry.get(User)
if _registered_user_admin is not None:
    _UserAdminBase = type(_registered_user_admin)

    class StaffUserAdmin(_UserAdminBase):
        """The user admin without pupils: their accounts are managed through ``Pupil`` only."""

        def get_queryset(self, request: HttpRequest):
            return super().get_queryset(request).filter(pupil__isnull=True)

    admin.site.unregister(User)
    admin.site.register(User, StaffUserAdmin)
