from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from dpo import views as dpo_views
from ilearn_auth import health, login_views, logout, metrics, my_data, notice, pages, support

admin.site.site_header = _("i-Learn Auth: beheer")
admin.site.site_title = _("i-Learn Auth")
admin.site.index_title = _("Scholen, leerlingen en privacy")
# The app list beside every page took 280 of 1280 px and pushed change lists (seven columns
# beside their filters) into a sideways scroll; the breadcrumbs and the index lead everywhere.
admin.site.enable_nav_sidebar = False
# The admin's start page leads the DPO to the dashboard (dpo/templates/dpo/admin_index.html).
admin.site.index_template = "dpo/admin_index.html"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("favicon.ico", pages.favicon, name="favicon"),
    # Support's refusal view, inside the admin (staff sign-in, its look), before its catch-all.
    path(
        "admin/support/refusals/",
        admin.site.admin_view(support.refusals_view),
        name="support_refusals",
    ),
    # Prometheus, for the addresses in METRICS_ALLOWED_IPS only (ilearn_auth/metrics.py).
    path("metrics", metrics.metrics_view, name="metrics"),
    # The DPO's dashboard and evidence bundle (dpo/views.py), in the admin's look and login.
    path("admin/dashboard/", admin.site.admin_view(dpo_views.dashboard), name="dpo_dashboard"),
    path(
        "admin/dashboard/bundle/",
        admin.site.admin_view(dpo_views.bundle_download),
        name="dpo_bundle",
    ),
    path("admin/", admin.site.urls),
    # The pupil's way in and out (ilearn_auth/login_views.py, logout.py) and pages (pages.py).
    path("", pages.home, name="home"),
    path("login/", pages.login_page, name="login"),
    path("login/failed/", pages.failed_login_page, name="login_failed"),
    path("logout/", logout.logout_view, name="logout"),
    path(
        "oidc/authenticate/",
        login_views.LeerIDAuthenticateView.as_view(),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        login_views.LeerIDCallbackView.as_view(),
        name="oidc_authentication_callback",
    ),
    path("api/me", pages.api_me, name="api_me"),
    # What we keep about pupils (ilearn_auth/notice.py, ilearn_auth/my_data.py).
    path("privacy/", notice.privacy_notice, name="privacy_notice"),
    path("mijn-gegevens/", my_data.my_data_page, name="my_data"),
    path("mijn-gegevens/download/", my_data.my_data_download, name="my_data_download"),
    path("i18n/", include("django.conf.urls.i18n")),
]

# A database outage that escapes a view is a 503 page, anything else a friendly page.
handler500 = "ilearn_auth.pages.server_error"
