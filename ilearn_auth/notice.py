"""The privacy notice (GDPR art. 13): who keeps what, why, from where, how long, your rights.

Written for a pupil of ten reading alone: short sentences, everyday words, Dutch first. The
periods come from the settings the retention rules use, so the notice cannot promise other
numbers than the code keeps; ``tests/pages/test_notice.py`` checks the reading level.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

# A period within a day of whole years is said in years ("3 jaar"), anything else in days.
_DAYS_PER_YEAR = 365.25


def period_in_words(days: int) -> str:
    years = round(days / _DAYS_PER_YEAR)
    if years >= 1 and abs(days - years * _DAYS_PER_YEAR) <= 1:
        return ngettext("%(count)d jaar", "%(count)d jaar", years) % {"count": years}
    return ngettext("%(count)d dag", "%(count)d dagen", days) % {"count": days}


@require_GET
def privacy_notice(request: HttpRequest) -> HttpResponse:
    context = {
        "dpo_email": settings.DPO_CONTACT_EMAIL,
        "snapshot_period": period_in_words(settings.RETENTION_SNAPSHOT_DAYS),
        "account_period": period_in_words(settings.RETENTION_ACCOUNT_DAYS),
        "log_period": period_in_words(settings.PRIVACY_LOG_RETENTION_DAYS),
    }
    return render(request, "ilearn_auth/privacy.html", context)
