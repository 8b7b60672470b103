"""The registers: filled by a migration, flagged where they disagree with what we enforce,
and refusing what cannot be right."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from privacy import actions
from privacy.models import (
    Breach,
    DataQualityReport,
    PrivacyLogEntry,
    ProcessingActivity,
    Processor,
    RetentionTerm,
)

pytestmark = pytest.mark.django_db


def the_activity() -> ProcessingActivity:
    return ProcessingActivity.objects.get(name__startswith="Aanmelden van leerlingen met LeerID")


def test_the_migration_fills_the_processing_register():
    """The entry names controller, purpose, basis, the art. 3 data, no transfers, the periods."""
    activity = the_activity()
    assert "imec" in activity.controller
    assert "6.1.f" in activity.legal_basis
    for item in ("naam", "voornaam", "Leer_id_uuid", "Account_uuid", "Historiek_account_uuid"):
        assert item in activity.data_categories
    assert "instellingsnummer" in activity.data_categories
    assert activity.transfers.startswith("Geen")
    assert "Pseudoniemen" in activity.security_measures
    assert "Privacylog" in activity.security_measures


def test_the_migration_reads_the_retention_periods_from_settings(settings):
    terms = {t.rule: t.days for t in the_activity().retention_terms.all()}
    assert terms == {
        "snapshots": settings.RETENTION_SNAPSHOT_DAYS,
        "accounts": settings.RETENTION_ACCOUNT_DAYS,
        "privacy_log": settings.PRIVACY_LOG_RETENTION_DAYS,
    }
    assert not any(t.longer_than_enforced for t in the_activity().retention_terms.all())


def test_a_term_longer_than_the_settings_enforce_is_flagged(client, dpo_user, settings):
    term = the_activity().retention_terms.get(rule="snapshots")
    assert not term.longer_than_enforced
    settings.RETENTION_SNAPSHOT_DAYS = 300
    assert term.longer_than_enforced
    assert not RetentionTerm(rule="other", days=99999, data="x").longer_than_enforced
    client.force_login(dpo_user)
    page = client.get(reverse("admin:privacy_processingactivity_changelist"))
    assert "langer dan de instellingen afdwingen" in page.content.decode()
    dashboard = client.get(reverse("dpo_dashboard")).content.decode()
    assert "bewaartermijn langer dan de instellingen afdwingen" in dashboard


def test_the_dpo_edits_the_register_and_is_warned_of_a_longer_term(client, dpo_user):
    activity = the_activity()
    client.force_login(dpo_user)
    url = reverse("admin:privacy_processingactivity_change", args=[activity.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name != "processors"
    }
    terms = list(activity.retention_terms.order_by("pk"))
    data |= {
        "retention_terms-TOTAL_FORMS": str(len(terms)),
        "retention_terms-INITIAL_FORMS": str(len(terms)),
        "retention_terms-MIN_NUM_FORMS": "0",
        "retention_terms-MAX_NUM_FORMS": "1000",
    }
    for n, term in enumerate(terms):
        days = term.days + 30 if term.rule == "accounts" else term.days
        data |= {
            f"retention_terms-{n}-id": str(term.pk),
            f"retention_terms-{n}-activity": str(activity.pk),
            f"retention_terms-{n}-data": term.data,
            f"retention_terms-{n}-rule": term.rule,
            f"retention_terms-{n}-days": str(days),
        }
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("instellingen verwijderen na" in m for m in messages), messages
    assert PrivacyLogEntry.objects.filter(
        action=actions.REGISTER_CHANGED, subject=f"processingactivity:{activity.pk}"
    ).exists()


def test_an_entry_ending_before_it_starts_is_refused(client, dpo_user):
    """A clear form error, and the database refuses it too; nothing is saved."""
    client.force_login(dpo_user)
    response = client.post(
        reverse("admin:privacy_processingactivity_add"),
        {
            "name": "Fictieve verwerking",
            "purpose": "x",
            "legal_basis": "x",
            "data_subjects": "x",
            "data_categories": "x",
            "retention": "x",
            "starts_on": "2026-06-01",
            "ends_on": "2026-05-31",
            "retention_terms-TOTAL_FORMS": "0",
            "retention_terms-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "De einddatum ligt vóór de begindatum." in response.content.decode()
    assert not ProcessingActivity.objects.filter(name="Fictieve verwerking").exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcessingActivity.objects.create(
            name="y",
            purpose="y",
            legal_basis="y",
            data_subjects="y",
            data_categories="y",
            retention="y",
            starts_on=date(2026, 6, 1),
            ends_on=date(2026, 5, 31),
        )


def breach_form(**overrides) -> dict:
    found = timezone.localtime() - timedelta(hours=2)
    data = {
        "found_at_0": f"{found:%Y-%m-%d}",
        "found_at_1": f"{found:%H:%M:%S}",
        "status": "open",
        "description": "Fictief voorval: een testlaptop verloren.",
        "affected_count": "10",
        "authority_notification_required": "on",
        "tell_pupils": "undecided",
    }
    return data | overrides


def test_a_breach_found_in_the_future_is_refused(client, dpo_user):
    client.force_login(dpo_user)
    future = timezone.localtime() + timedelta(days=1)
    response = client.post(
        reverse("admin:privacy_breach_add"),
        breach_form(found_at_0=f"{future:%Y-%m-%d}", found_at_1=f"{future:%H:%M:%S}"),
    )
    assert response.status_code == 200
    assert "Een lek kan niet in de toekomst vastgesteld zijn." in response.content.decode()
    assert not Breach.objects.exists()


def test_a_breach_keeps_the_art_33_content_and_the_art_34_decision(client, dpo_user):
    client.force_login(dpo_user)
    response = client.post(
        reverse("admin:privacy_breach_add"),
        breach_form(
            nature="Vertrouwelijkheid",
            pupil_categories="leerlingen secundair",
            record_categories="namen, LeerID-sleutels",
            records_count="20",
            consequences="Identificatie mogelijk.",
            measures="Sessies beëindigd.",
            tell_pupils="no",
        ),
    )
    assert response.status_code == 200
    assert "Leg uit waarom de leerlingen niet ingelicht worden" in response.content.decode()
    response = client.post(
        reverse("admin:privacy_breach_add"),
        breach_form(tell_pupils="no", tell_pupils_reason="Versleuteld; geen risico (art. 34.3.a)."),
    )
    assert response.status_code == 302
    breach = Breach.objects.get()
    assert breach.tell_pupils == "no"
    assert breach.deadline == breach.found_at + timedelta(hours=72)


def test_the_breach_list_counts_down_and_shows_overdue_in_red(client, dpo_user):
    now = timezone.now()
    Breach.objects.create(found_at=now - timedelta(hours=10), description="a")
    Breach.objects.create(found_at=now - timedelta(hours=80), description="b")
    client.force_login(dpo_user)
    page = client.get(reverse("admin:privacy_breach_changelist")).content.decode()
    assert "nog 61 u" in page or "nog 62 u" in page
    assert 'class="register-flag">8 u te laat' in page


def test_an_active_processor_without_a_contract_is_refused(client, dpo_user):
    client.force_login(dpo_user)
    response = client.post(
        reverse("admin:privacy_processor_add"),
        {"name": "Fictieve Hosting", "purpose": "hosting", "active": "on"},
    )
    assert response.status_code == 200
    assert "heeft een verwerkersovereenkomst nodig" in response.content.decode()
    assert not Processor.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        Processor.objects.create(name="x", purpose="x", active=True, agreement_reference="R-1")
    Processor.objects.create(name="inactive", purpose="x", active=False)


def test_a_processor_changed_after_the_overview_went_to_dov_is_flagged(client, dpo_user):
    client.force_login(dpo_user)
    add = {
        "name": "Fictieve Hosting",
        "purpose": "hosting",
        "active": "on",
        "agreement_reference": "VO-2026-01",
        "agreement_signed_on": "2026-01-10",
    }
    assert client.post(reverse("admin:privacy_processor_add"), add).status_code == 302
    processor = Processor.objects.get()
    assert processor.dov_overview_outdated  # never sent
    change = reverse("admin:privacy_processor_change", args=[processor.pk])
    today = timezone.localdate()
    sent = add | {"overview_sent_to_dov_on": f"{today + timedelta(days=1):%Y-%m-%d}"}
    assert client.post(change, sent).status_code == 302
    processor.refresh_from_db()
    assert not processor.dov_overview_outdated  # only the sending date changed
    page = client.get(reverse("admin:privacy_processor_changelist")).content.decode()
    assert "gewijzigd na het laatste overzicht" not in page
    assert client.post(change, sent | {"location": "Frankfurt"}).status_code == 302
    processor.refresh_from_db()
    processor.overview_sent_to_dov_on = today - timedelta(days=1)
    processor.save()
    assert processor.dov_overview_outdated
    page = client.get(reverse("admin:privacy_processor_changelist")).content.decode()
    assert "gewijzigd na het laatste overzicht" in page


def test_the_dpo_marks_a_data_quality_report_sent_and_it_is_kept(client, dpo_user):
    report = DataQualityReport.objects.create(
        found_at=timezone.now(), description="concept", status="draft"
    )
    client.force_login(dpo_user)
    response = client.post(
        reverse("admin:privacy_dataqualityreport_changelist"),
        {"action": "mark_sent", "_selected_action": [report.pk]},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "reported"
    assert report.reported_at is not None
    assert not dpo_user.has_perm("privacy.delete_dataqualityreport")
