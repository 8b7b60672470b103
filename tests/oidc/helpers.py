from __future__ import annotations


def landed_on(client, response) -> tuple[int, str]:
    """Follows a callback's redirect to the failure page: (HTTP status, reason code)."""
    assert response.status_code == 302, response.status_code
    assert response["Location"] == "/login/failed/", response["Location"]
    page = client.get(response["Location"])
    return page.status_code, page.context["reason"]


def privacy_entries(**filters):
    from privacy.models import PrivacyLogEntry

    return list(PrivacyLogEntry.objects.filter(**filters).order_by("sequence"))
