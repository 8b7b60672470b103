"""Every way a login can fail, explained for staff: what the code means and what Support does.

The pupil's failure page shows the code and a short reference; Support looks it up (the
Support refusal view, ``ilearn_auth/support.py``) and reads here what to do. The same texts
explain the codes in the privacy-log admin (registered with ``privacy.reasons`` at start-up).
``tests/test_support.py`` checks that every failure code of the login has its text here; the
README's table is this list.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# code: (what it means, what Support does)
REFUSAL_CODES: dict[str, tuple[str, str]] = {
    "not_enrolled": (
        _("geen inschrijving in een school volgens LeerID"),
        _(
            "De school moet de inschrijving in LeerID (Discimus) nakijken; na een "
            "schoolwissel kan dat enkele dagen duren."
        ),
    ),
    "no_agreement": (
        _("ingeschreven, maar geen enkele school heeft een overeenkomst die vandaag geldt"),
        _(
            "Kijk de toestand van de scholen na (laatste kolom). Geschorst of afgelopen: verwijs "
            "naar de verantwoordelijke voor overeenkomsten. Geen overeenkomst: de school "
            "gebruikt i-Learn (nog) niet."
        ),
    ),
    "account_inactive": (
        _("het account van de leerling bij i-Learn is uitgeschakeld"),
        _(
            "Verwijs naar de DPO: die kijkt in de privacylog na waarom het account is "
            "uitgeschakeld."
        ),
    ),
    "protocol_ended": (
        _("het protocol met het departement Onderwijs is afgelopen: niemand kan nog aanmelden"),
        _(
            "Niets te doen voor deze leerling: verwijs naar de school. Zie het DPO-dashboard "
            "voor de einddatum."
        ),
    ),
    "op_access_denied": (
        _("de leerling brak het aanmelden bij LeerID af"),
        _("Opnieuw aanmelden; niets te doen."),
    ),
    "op_error": (
        _("LeerID gaf een fout terug"),
        _("Opnieuw proberen; blijft het, meld het aan de beheerders (mogelijk storing)."),
    ),
    "state_missing": (
        _("de browser kwam terug zonder lopende aanmelding (bladwijzer, terugknop)"),
        _("Aanmelden vanaf de startpagina, niet via een bladwijzer of de terugknop."),
    ),
    "state_unknown": (
        _("de browser kwam terug met een aanmelding die hier niet gestart werd"),
        _("Aanmelden vanaf de startpagina; cookies moeten aan staan."),
    ),
    "state_expired": (
        _("de aanmelding duurde te lang"),
        _("Opnieuw aanmelden, zonder lang te wachten op de LeerID-pagina."),
    ),
    "callback_issuer_mismatch": (
        _("het antwoord kwam van een andere aanmeldserver"),
        _("Melden aan de beheerders: mogelijk misbruik of een verkeerde instelling."),
    ),
    "token_error": (
        _("LeerID weigerde de aanmeldcode in te wisselen"),
        _("Opnieuw aanmelden; blijft het, melden aan de beheerders."),
    ),
    "token_response_malformed": (
        _("LeerID stuurde een onleesbaar antwoord"),
        _("Melden aan de beheerders (storing of wijziging bij LeerID)."),
    ),
    "no_id_token": (
        _("LeerID stuurde geen identiteitsbewijs (ID token)"),
        _("Melden aan de beheerders."),
    ),
    "id_token_malformed": (
        _("het identiteitsbewijs is onleesbaar"),
        _("Melden aan de beheerders."),
    ),
    "id_token_alg": (
        _("het identiteitsbewijs is niet met RS256 ondertekend"),
        _("Melden aan de beheerders: mogelijk vervalst."),
    ),
    "id_token_unknown_kid": (
        _("het identiteitsbewijs is ondertekend met een onbekende sleutel"),
        _("Na enkele minuten opnieuw; blijft het, melden aan de beheerders."),
    ),
    "id_token_kid_ambiguous": (
        _("het identiteitsbewijs noemt geen sleutel en er zijn er meerdere"),
        _("Melden aan de beheerders."),
    ),
    "id_token_bad_signature": (
        _("de handtekening van het identiteitsbewijs klopt niet"),
        _("Melden aan de beheerders: mogelijk vervalst."),
    ),
    "id_token_issuer_mismatch": (
        _("het identiteitsbewijs komt van een andere uitgever"),
        _("Melden aan de beheerders: mogelijk vervalst of verkeerd ingesteld."),
    ),
    "id_token_audience": (
        _("het identiteitsbewijs is niet voor i-Learn bedoeld"),
        _("Melden aan de beheerders."),
    ),
    "id_token_azp": (
        _("het identiteitsbewijs is voor een andere toepassing uitgereikt"),
        _("Melden aan de beheerders."),
    ),
    "id_token_expired": (
        _("het identiteitsbewijs is verlopen"),
        _("Kijk of de klok van het toestel juist staat; opnieuw aanmelden."),
    ),
    "id_token_iat": (
        _("het identiteitsbewijs draagt een onmogelijk tijdstip"),
        _("Melden aan de beheerders (klok van de server of van LeerID)."),
    ),
    "id_token_missing_claim": (
        _("het identiteitsbewijs mist een verplicht gegeven"),
        _("Melden aan de beheerders."),
    ),
    "id_token_invalid": (
        _("het identiteitsbewijs is ongeldig"),
        _("Melden aan de beheerders."),
    ),
    "nonce_mismatch": (
        _("het identiteitsbewijs hoort niet bij deze aanmelding (mogelijk hergebruikt)"),
        _("Opnieuw aanmelden vanaf de startpagina; blijft het, melden aan de beheerders."),
    ),
    "missing_sub": (
        _("LeerID stuurde geen gebruikersnummer (sub)"),
        _("Melden aan de beheerders."),
    ),
    "userinfo_error": (
        _("LeerID gaf de gegevens van de leerling niet vrij"),
        _("Opnieuw proberen; blijft het, melden aan de beheerders."),
    ),
    "userinfo_malformed": (
        _("de gegevens van de leerling zijn onleesbaar"),
        _("Melden aan de beheerders."),
    ),
    "userinfo_sub_mismatch": (
        _("de gegevens horen bij een andere gebruiker dan het identiteitsbewijs"),
        _("Melden aan de beheerders: mogelijk misbruik."),
    ),
    "claims_unusable": (
        _("de gegevens van LeerID zijn onbruikbaar (bv. meerdere LeerID-sleutels)"),
        _(
            "De school of LeerID-helpdesk moet de gegevens van de leerling nakijken; het "
            "detail staat bij de weigering."
        ),
    ),
    "op_unavailable": (
        _("LeerID was niet bereikbaar of te traag"),
        _("Later opnieuw proberen; bij een langere storing de beheerders verwittigen."),
    ),
    "op_misconfigured": (
        _("de aanmeldserver is verkeerd ingesteld"),
        _("Meteen melden aan de beheerders: niemand kan aanmelden."),
    ),
    "database_unavailable": (
        _("de databank van i-Learn was niet bereikbaar"),
        _("Later opnieuw proberen; de beheerders verwittigen."),
    ),
    "internal_error": (
        _("een fout in i-Learn Auth"),
        _("Melden aan de beheerders met de referentie: de fout staat in het logboek."),
    ),
}
