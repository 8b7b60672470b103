"""The staff sign-in: password, then the second factor (or, the first time, its enrolment).

Each step has one way through and several ways to fail, each with a page that says what to do
and a privacy-log entry:

- locked (account or address): nothing is tried, the page says until when (429);
- wrong password / wrong, expired or replayed code: counted towards a lock (``staff.lockout``);
- the lock is reached by a wrong code: the half-signed-in session ends;
- a staff member without a role (e.g. their last group was removed mid-session): refused and
  signed out; Redis or the database down: the exception reaches ``handler500``, the 503 page,
  and the transaction around each sign-in step leaves nothing half-written.
"""

from __future__ import annotations

import csv

import segno
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth import login as auth_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

import privacy
from privacy import actions
from staff import access, lockout
from staff import second_factor as factors
from staff.admin_site import is_verified
from staff.models import SignInFailure
from staff.selectors import access_review_rows

ENDED_MESSAGES = {
    "idle_timeout": lambda: (
        _("Je sessie is beëindigd na %(minutes)d minuten zonder activiteit. Meld je opnieuw aan.")
        % {"minutes": settings.STAFF_SESSION_IDLE_SECONDS // 60}
    ),
    "max_age": lambda: (
        _("Je sessie is beëindigd: na %(hours)d uur meld je je opnieuw aan.")
        % {"hours": settings.STAFF_SESSION_MAX_SECONDS // 3600}
    ),
    "no_role": lambda: _(
        "Je account heeft geen rol (meer) in het beheer. Vraag de DPO om je de juiste groep "
        "te geven."
    ),
    "signed_out": lambda: _("Je bent afgemeld."),
}
CODE_MESSAGES = {
    "wrong_code": lambda: _(
        "Die code klopt niet of is verlopen. Typ de code die je app nu toont, of een "
        "ongebruikte herstelcode."
    ),
    "code_reused": lambda: _("Die code is al gebruikt. Wacht op de volgende code in je app."),
}


@never_cache
@csrf_protect
def sign_in(request: HttpRequest, *, site, extra_context=None) -> HttpResponse:
    user = request.user
    if request.method == "GET" and user.is_authenticated and user.is_staff:
        if not is_verified(user):
            return _to_second_factor(request, user)
        if access.has_role(user):
            return HttpResponseRedirect(_next_url(request))
        return _refuse_without_role(request, site)
    message = ENDED_MESSAGES.get(request.GET.get("ended", ""), lambda: "")()
    if request.method != "POST":
        return _login_page(request, site, AdminAuthenticationForm(request), message=message)

    form = AdminAuthenticationForm(request, data=request.POST)
    address = lockout.client_address(request)
    account = lockout.account_for(request.POST.get("username", "")[:150])
    locked = lockout.active_lockout(account, address)
    if locked:
        _log_failure(request, account, reason="locked_out")
        return _locked_page(request, site, locked)
    if not form.is_valid():
        _log_failure(request, account, reason="wrong_password")
        locked = lockout.signin_failure_record(
            account=account, address=address, stage=SignInFailure.Stage.PASSWORD
        )
        if locked:
            return _locked_page(request, site, locked)
        return _login_page(request, site, form)

    user = form.get_user()
    enrolled = factors.has_second_factor(user)
    with transaction.atomic():
        auth_login(request, user)  # a new session key: nothing of the anonymous one is reused
        _log_success(request, stage="password", second_factor="pending" if enrolled else "none")
        request.session.save()  # a session store that is down fails here, inside the transaction
    return _to_second_factor(request, user)


@never_cache
@csrf_protect
def verify_code(request: HttpRequest, *, site) -> HttpResponse:
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return redirect("admin:login")
    if is_verified(user):
        return HttpResponseRedirect(_next_url(request))
    if not factors.has_second_factor(user):
        return _to_second_factor(request, user)
    context = {"error": ""}
    if request.method == "POST":
        account = lockout.account_of(user)
        address = lockout.client_address(request)
        locked = lockout.active_lockout(account, address)
        if locked:
            _log_failure(request, account, reason="locked_out")
            return _end_and_show_lock(request, site, locked)
        with transaction.atomic():  # a code is used up only together with the sign-in
            check = factors.second_factor_check(user=user, code=request.POST.get("code", ""))
            if check.device is not None:
                _verified(request, check.device, method=check.method)
                if check.method == "recovery_code":
                    privacy.log(
                        actions.STAFF_RECOVERY_CODE_USED,
                        actor=f"staff:{user.pk}",
                        subject=f"staff:{user.pk}",
                        details={"left": factors.recovery_codes_left(user)},
                    )
                request.session.save()
        if check.device is not None:
            return HttpResponseRedirect(_next_url(request))
        _log_failure(request, account, reason=check.reason)
        locked = lockout.signin_failure_record(
            account=account, address=address, stage=SignInFailure.Stage.SECOND_FACTOR
        )
        if locked:
            return _end_and_show_lock(request, site, locked)
        context["error"] = CODE_MESSAGES[check.reason]()
    return _page(request, site, "staff/second_factor.html", context)


@never_cache
@csrf_protect
def enrol(request: HttpRequest, *, site) -> HttpResponse:
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return redirect("admin:login")
    if factors.has_second_factor(user):
        return _to_second_factor(request, user)
    device = factors.pending_totp_device(user)
    context = {"error": "", "secret": _grouped(device), "qr": _qr_svg(device.config_url)}
    if request.method == "POST":
        account = lockout.account_of(user)
        address = lockout.client_address(request)
        locked = lockout.active_lockout(account, address)
        if locked:
            _log_failure(request, account, reason="locked_out")
            return _end_and_show_lock(request, site, locked)
        with transaction.atomic():
            codes = factors.second_factor_enrol(
                user=user, device=device, code=request.POST.get("code", "")
            )
            if codes:
                _verified(request, device, method="totp")
                request.session.save()
        if codes:
            context = {"codes": codes, "next": _next_url(request)}
            return _page(request, site, "staff/recovery_codes.html", context)
        _log_failure(request, account, reason="wrong_code")
        locked = lockout.signin_failure_record(
            account=account, address=address, stage=SignInFailure.Stage.SECOND_FACTOR
        )
        if locked:
            return _end_and_show_lock(request, site, locked)
        context["error"] = CODE_MESSAGES["wrong_code"]()
    return _page(request, site, "staff/enrol.html", context)


@never_cache
@require_POST
@csrf_protect
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(f"{reverse('admin:login')}?ended=signed_out")


def access_review(request: HttpRequest, *, site) -> HttpResponse:
    """Every staff account and what it may see, for the DPO; the CSV is the same table."""
    if not request.user.has_perm("staff.view_access_review"):
        raise PermissionDenied
    as_csv = request.GET.get("format") == "csv"
    rows = access_review_rows()
    privacy.log(
        actions.STAFF_ACCESS_REVIEWED,
        actor=f"staff:{request.user.pk}",
        details={"format": "csv" if as_csv else "html", "accounts": len(rows)},
    )
    if as_csv:
        return _review_csv(rows)
    context = {**site.each_context(request), "title": _("Toegangsoverzicht medewerkers")}
    return render(request, "staff/access_review.html", {**context, "rows": rows})


# --- Helpers ---------------------------------------------------------------------------------


def _verified(request: HttpRequest, device, *, method: str) -> None:
    otp_login(request, device)
    request.session.cycle_key()  # the verified session gets a key of its own
    _log_success(request, stage="second_factor", second_factor=method)


def _log_success(request: HttpRequest, *, stage: str, second_factor: str) -> None:
    privacy.log(
        actions.AUTHN_LOGIN_SUCCESS,
        actor=f"staff:{request.user.pk}",
        subject=f"staff:{request.user.pk}",
        details={"stage": stage, "second_factor": second_factor},
    )


def _log_failure(request: HttpRequest, account, *, reason: str) -> None:
    privacy.log(
        actions.AUTHN_LOGIN_FAIL,
        actor="system",
        subject=account.key,
        outcome="failure",
        reason=reason,
    )


def _to_second_factor(request: HttpRequest, user) -> HttpResponse:
    name = "staff_second_factor" if factors.has_second_factor(user) else "staff_enrol"
    url = reverse(f"admin:{name}")
    next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if next_url and _safe(request, next_url):
        from urllib.parse import urlencode

        url = f"{url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
    return HttpResponseRedirect(url)


def _refuse_without_role(request: HttpRequest, site) -> HttpResponse:
    user = request.user
    privacy.log(
        actions.AUTHZ_FAIL,
        actor=f"staff:{user.pk}",
        subject=f"staff:{user.pk}",
        outcome="failure",
        reason="no_role",
    )
    request.staff_logout_reason = "no_role"
    logout(request)
    form = AdminAuthenticationForm(request)
    return _login_page(request, site, form, message=ENDED_MESSAGES["no_role"](), status=403)


def _end_and_show_lock(request: HttpRequest, site, locked) -> HttpResponse:
    request.staff_logout_reason = "locked_out"
    logout(request)
    return _locked_page(request, site, locked)


def _locked_page(request: HttpRequest, site, locked) -> HttpResponse:
    until = time_format(timezone.localtime(locked.until), "H:i")
    message = _(
        "Te veel mislukte pogingen: aanmelden is geblokkeerd tot %(until)s. Probeer het dan "
        "opnieuw, of vraag de DPO om de blokkering op te heffen."
    ) % {"until": until}
    form = AdminAuthenticationForm(request)
    return _login_page(request, site, form, message=message, status=429)


def _login_page(request, site, form, *, message: str = "", status: int = 200) -> HttpResponse:
    from staff.demo import DEMO_PASSWORD, demo_accounts

    context = {
        **site.each_context(request),
        "title": _("Aanmelden"),
        "subtitle": None,
        "form": form,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        REDIRECT_FIELD_NAME: _next_url(request, default=""),
        "staff_message": message,
        "demo_accounts": demo_accounts(),
        "demo_password": DEMO_PASSWORD if demo_accounts() else "",
    }
    return render(request, site.login_template, context, status=status)


def _page(request: HttpRequest, site, template: str, context: dict) -> HttpResponse:
    base = {**site.each_context(request), "title": _("Tweede factor")}
    base["next"] = _next_url(request, default="")
    return render(request, template, {**base, **context})


def _next_url(request: HttpRequest, *, default: str | None = None) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if candidate and _safe(request, candidate):
        return candidate
    return reverse("admin:index") if default is None else default


def _safe(request: HttpRequest, url: str) -> bool:
    return url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def _grouped(device) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def _review_csv(rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="toegangsoverzicht.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "username",
            "active",
            "superuser",
            "groups",
            "areas",
            "sees_personal_data",
            "second_factor",
            "undertaking_signed_on",
            "last_login",
            "locked",
        ]
    )
    for row in rows:
        writer.writerow(row.as_csv_row())
    return response
