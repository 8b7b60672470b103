"""The privacy notice: every part the GDPR asks for, the periods from the settings, easy to read."""

from __future__ import annotations

import pytest

from ilearn_auth.notice import period_in_words
from tests.pages.readability import main_text_blocks, reading_ease

pytestmark = pytest.mark.django_db

# Flesch-Douma / Flesch Reading Ease: 80 and up is "easy" (a pupil of 10 to 12 reading alone).
MIN_READING_EASE = 80
MAX_WORDS_PER_SENTENCE = 15


def _notice(client, language: str = "nl") -> str:
    response = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_it_reads_easily(client, language):
    """The pupil's part scores 80+ and has no sentence over 15 words, in Dutch and English."""
    score = reading_ease(main_text_blocks(_notice(client, language)), language)
    assert score.score >= MIN_READING_EASE, score
    assert score.longest_sentence <= MAX_WORDS_PER_SENTENCE, score
    assert score.words >= 150, score  # the whole notice was measured, not a fragment


def test_it_scores_hard_text_as_hard():
    """The measure tells the GDPR's language from a child's."""
    legal = [
        "De verwerkingsverantwoordelijke verstrekt de betrokkene informatie over de "
        "verwerkingsdoeleinden overeenkomstig de toepasselijke bepalingen van de algemene "
        "verordening gegevensbescherming."
    ]
    assert reading_ease(legal, "nl").score < 0
    assert reading_ease(["We kijken of je i-Learn mag gebruiken."], "nl").score > 80


def test_it_says_who_why_what_where_how_long_rights_and_authority(client, settings):
    """Each part of GDPR art. 13, with the DPO's address from the settings."""
    settings.DPO_CONTACT_EMAIL = "dpo@example.org"
    html = _notice(client)
    for part in (
        "imec",  # who
        "Waarom?",
        "LeerID-sleutel",  # what
        "Vlaamse overheid",  # from where
        "Na 1 jaar wissen we ze",
        "Meld je je 3 jaar niet aan",
        "logboek 3 jaar",
        "nodig heeft voor zijn werk",  # who may see it
        'href="mailto:dpo@example.org"',
        "Gegevensbeschermingsautoriteit",
        'href="/mijn-gegevens/"',
        "artikel 2",
    ):
        assert part in html, part


def test_it_follows_the_retention_settings(client, settings):
    """The notice promises the periods the retention rules apply."""
    settings.RETENTION_SNAPSHOT_DAYS = 180
    settings.RETENTION_ACCOUNT_DAYS = 731
    html = _notice(client)
    assert "Na 180 dagen wissen we ze" in html
    assert "Meld je je 2 jaar niet aan" in html


def test_it_is_linked_from_every_pupil_page(client):
    """The footer of the site's layout links the notice."""
    assert 'href="/privacy/"' in client.get("/login/").content.decode()


def test_it_says_periods_in_years_when_they_are_years():
    assert period_in_words(365) == "1 jaar"
    assert period_in_words(1095) == "3 jaar"
    assert period_in_words(1096) == "3 jaar"
    assert period_in_words(30) == "30 dagen"
    assert period_in_words(1) == "1 dag"


def test_it_warns_at_deploy_without_a_dpo_address(settings):
    """`check --deploy` warns when the notice would name no DPO address."""
    from ilearn_auth.checks import check_dpo_contact

    settings.DPO_CONTACT_EMAIL = ""
    assert [warning.id for warning in check_dpo_contact(None)] == ["ilearn_auth.W014"]
    settings.DPO_CONTACT_EMAIL = "dpo@example.org"
    assert check_dpo_contact(None) == []
