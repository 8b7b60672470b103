"""Staff accounts in the admin: the undertaking date, the DPO's reset and unlock actions.

- The user form carries the date of the confidentiality undertaking; choosing a personal-data
  group without one is refused with the reason (the model-level guard in ``staff.signals``
  refuses it everywhere else too).
- DPO actions on the user list: reset someone's second factor, lift their lockout (both logged).
- Lockouts have their own list, where an address lockout is lifted too.
- django-otp's own device admins are removed: devices change only through enrolment and reset.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff import access, lockout
from staff import second_factor as factors
from staff.exceptions import UndertakingMissing
from staff.models import Lockout
from staff.services import staff_undertaking_record

User = get_user_model()

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class StaffUserChangeForm(UserChangeForm):
    undertaking_signed_on = forms.DateField(
        label=_("vertrouwelijkheidsverklaring getekend op"),
        required=False,
        help_text=_(
            "Protocol artikel 6: nodig voor de groepen die persoonsgegevens zien (Support, DPO)."
        ),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        profile = getattr(self.instance, "staff_profile", None) if self.instance.pk else None
        if profile is not None:
            self.fields["undertaking_signed_on"].initial = profile.undertaking_signed_on

    def clean(self):
        cleaned = super().clean()
        groups = cleaned.get("groups")
        permissions = cleaned.get("user_permissions")
        if cleaned.get("undertaking_signed_on") is None and access.reaches_personal_data(
            group_ids=[group.pk for group in groups or ()],
            permission_ids=[permission.pk for permission in permissions or ()],
        ):
            raise ValidationError({"groups": UndertakingMissing().messages})
        return cleaned


# Built on the user admin registered so far (pupils/admin.py leaves pupils' users out of it),
# found through the registry so that staff imports no other app of ours.
_RegisteredUserAdmin = (
    type(admin.site._registry[User]) if admin.site.is_registered(User) else UserAdmin
)


class StaffUserAdmin(_RegisteredUserAdmin):
    form = StaffUserChangeForm
    list_display = (
        "username",
        "is_staff",
        "is_superuser",
        "group_names",
        "second_factor_on",
        "undertaking",
        "last_login",
    )
    actions = ["reset_second_factor", "lift_lockout"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [
            *fieldsets,
            (_("Vertrouwelijkheid"), {"fields": ("undertaking_signed_on",)}),
        ]

    def get_queryset(self, request):
        # The list's columns in the one query: no query per row for the factor or the profile.
        confirmed_totp = factors.confirmed_totp_devices().filter(user=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .select_related("staff_profile")
            .prefetch_related("groups")
            .annotate(has_totp=Exists(confirmed_totp))
        )

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("undertaking_signed_on") is not None:
            # A date before save_related writes the groups, so the model-level guard sees it.
            staff_undertaking_record(user=obj, signed_on=form.cleaned_data["undertaking_signed_on"])

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        if "undertaking_signed_on" in form.cleaned_data and (
            form.cleaned_data["undertaking_signed_on"] is None
        ):
            # Cleared after the groups are written: dropping Support and the date in one save
            # is allowed (the form checked the new groups), and the stored groups are new now.
            staff_undertaking_record(user=form.instance, signed_on=None)

    @admin.display(description=_("groepen"))
    def group_names(self, user) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all()))

    @admin.display(description=_("tweede factor"), boolean=True)
    def second_factor_on(self, user) -> bool:
        return user.has_totp

    @admin.display(description=_("verklaring"))
    def undertaking(self, user):
        profile = getattr(user, "staff_profile", None)
        return profile.undertaking_signed_on if profile else None

    @admin.action(
        description=_("Tweede factor resetten (opnieuw instellen bij de volgende aanmelding)"),
        permissions=["reset_second_factor"],
    )
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = sum(factors.second_factor_reset(user=user, by=request.user) for user in queryset)
        self.message_user(
            request,
            ngettext(
                "Tweede factor van %(count)d account verwijderd.",
                "Tweede factor van %(count)d accounts verwijderd.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Blokkering opheffen"), permissions=["unlock_signin"])
    def lift_lockout(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = sum(lockout.lockouts_lift_for_user(user=user, by=request.user) for user in queryset)
        self.message_user(
            request,
            ngettext("%(count)d blokkering opgeheven.", "%(count)d blokkeringen opgeheven.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def has_reset_second_factor_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("staff.reset_second_factor")

    def has_unlock_signin_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("staff.unlock_signin")


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)


class ActiveFilter(admin.SimpleListFilter):
    title = _("nu geblokkeerd")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("ja"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(until__gt=timezone.now(), lifted_at__isnull=True)
        return queryset


@admin.register(Lockout)
class LockoutAdmin(admin.ModelAdmin):
    list_display = ("key", "scope", "account", "locked_at", "until", "lifted_at", "lifted_by")
    list_filter = (ActiveFilter, "scope")
    actions = ["lift"]

    @admin.display(description=_("account"))
    def account(self, lockout_: Lockout):
        if lockout_.user_id is None:
            return ""
        url = reverse("admin:auth_user_change", args=[lockout_.user_id])
        return format_html('<a href="{}">{}</a>', url, lockout_.user.get_username())

    @admin.action(description=_("Blokkering opheffen"), permissions=["unlock_signin"])
    def lift(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for item in queryset.filter(lifted_at__isnull=True, until__gt=timezone.now()):
            lockout.lockout_lift(lockout=item, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d blokkering opgeheven.", "%(count)d blokkeringen opgeheven.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("staff.unlock_signin")

    def has_unlock_signin_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("staff.unlock_signin")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
