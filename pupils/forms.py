"""The DPO's request reference: asked before an export or an erasure, kept in the privacy log."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from privacy.pseudonyms import typed_key_pseudonym


class RequestReferenceForm(forms.Form):
    reference = forms.CharField(
        label=_("Referentie van het verzoek"),
        help_text=_(
            "Het ticketnummer of kenmerk van het verzoek (bv. DPO-2026-014); het komt in de "
            "privacylog. Geen namen of sleutels."
        ),
        max_length=40,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9 ._/#:-]*$",
                _("Gebruik letters, cijfers, spaties en . _ / # : -"),
            )
        ],
    )

    def clean_reference(self) -> str:
        reference = self.cleaned_data["reference"].strip()
        # A LeerID or account key is personal data: the privacy log holds none.
        if typed_key_pseudonym(reference) is not None or len(reference.replace("-", "")) >= 32:
            raise forms.ValidationError(
                _("Dat lijkt een sleutel: geef het kenmerk van het verzoek.")
            )
        return reference
