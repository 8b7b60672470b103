"""Fills in the register of processing activities with this product's processing (GDPR art. 30,
protocol art. 2, 3, 4 and 6). The retention terms are read from the settings in force when the
migration runs; the DPO edits the entry afterwards in the admin. Idempotent: an entry of that
name is left alone, so a DPO's edits survive a re-run on a restored database.
"""

from django.conf import settings
from django.db import migrations

NAME = "Aanmelden van leerlingen met LeerID (i-Learn Auth)"

ENTRY = {
    "controller": "imec vzw (de Dienstenleverancier), Kapeldreef 75, 3001 Leuven",
    "purpose": (
        "Leerlingen identificeren wanneer ze zich met LeerID aanmelden op i-Learn, en nagaan of "
        "ze ingeschreven zijn in een school waarmee i-Learn een overeenkomst heeft (protocol "
        "art. 2, 2°). Leerlingen zonder inschrijving of van een school zonder overeenkomst "
        "worden geweigerd."
    ),
    "legal_basis": "AVG art. 6.1.f (gerechtvaardigd belang), protocol art. 2",
    "data_subjects": (
        "Leerlingen van het leerplichtonderwijs (lager en secundair) die zich met LeerID aanmelden"
    ),
    "data_categories": (
        "Protocol art. 3 (geen gegevens van AVG art. 9 of 10):\n"
        "- Officiële persoonsgegevens: naam, voornaam\n"
        "- Accountgegevens: Leer_id_uuid, Account_uuid, Historiek_account_uuid\n"
        "- Inschrijvingen: instellingsnummer"
    ),
    "recipients": (
        "De medewerkers van de Dienstenleverancier belast met de toegangscontrole, enkel wie "
        "de gegevens voor zijn functie nodig heeft (protocol art. 4; rollen DPO en Support)."
    ),
    "transfers": "Geen doorgiften naar derde landen of internationale organisaties.",
    "security_measures": (
        "- Pseudoniemen: leerlingen worden bewaard onder een sleutel-hash (HMAC-SHA256) van hun "
        "LeerID-sleutel, nooit onder de sleutel zelf.\n"
        "- Versleuteling: namen zijn versleuteld opgeslagen (Fernet, sleutels buiten de databank, "
        "roteerbaar); verkeer enkel over TLS.\n"
        "- Enkel de gegevens van de laatste aanmelding worden bewaard.\n"
        "- Medewerkers melden zich aan met wachtwoord en tweede factor; rollen volgens functie.\n"
        "- Privacylog: elke beslissing over en elke inzage van persoonsgegevens, met een "
        "hash-keten die dagelijks nagekeken wordt.\n"
        "- Functionaris voor gegevensbescherming (DPO) en register van verwerkingsactiviteiten."
    ),
}


def terms():
    return [
        (
            "Identiteitsmomentopname van de laatste aanmelding (namen, sleutels, inschrijvingen)",
            "snapshots",
            settings.RETENTION_SNAPSHOT_DAYS,
        ),
        (
            "Gepseudonimiseerd leerlingaccount (na de laatste aanmelding)",
            "accounts",
            settings.RETENTION_ACCOUNT_DAYS,
        ),
        (
            "Privacylog (enkel pseudoniemen)",
            "privacy_log",
            settings.PRIVACY_LOG_RETENTION_DAYS,
        ),
    ]


def fill_register(apps, schema_editor):
    ProcessingActivity = apps.get_model("privacy", "ProcessingActivity")
    RetentionTerm = apps.get_model("privacy", "RetentionTerm")
    if ProcessingActivity.objects.filter(name=NAME).exists():
        return
    days = {rule: value for _, rule, value in terms()}
    activity = ProcessingActivity.objects.create(
        name=NAME,
        retention=(
            f"Gegevens van de laatste aanmelding {days['snapshots']} dagen; een account "
            f"zonder aanmelding {days['accounts']} dagen; privacylog {days['privacy_log']} "
            "dagen (protocol art. 3)."
        ),
        **ENTRY,
    )
    for data, rule, value in terms():
        RetentionTerm.objects.create(activity=activity, data=data, rule=rule, days=value)


def empty_register(apps, schema_editor):
    apps.get_model("privacy", "ProcessingActivity").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0006_i12_registers")]

    operations = [migrations.RunPython(fill_register, empty_register)]
