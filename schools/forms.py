from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

# Hundreds of schools make a file of tens of kilobytes; this leaves ample room.
IMPORT_MAX_BYTES = 2 * 1024 * 1024


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV-bestand"),
        help_text=_(
            "Kolommen instellingsnummer,name,valid_from,valid_until; datums als JJJJ-MM-DD; "
            "komma of puntkomma; UTF-8."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("Het bestand is groter dan %(max)s MB."),
                params={"max": IMPORT_MAX_BYTES // (1024 * 1024)},
            )
        return upload
