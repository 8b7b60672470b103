from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class UndertakingMissing(ValidationError):
    """A personal-data group or permission for an account without a confidentiality undertaking."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Dit account kan pas in een groep die persoonsgegevens ziet (Support, DPO) of "
                "zo'n recht krijgen nadat de datum van de vertrouwelijkheidsverklaring is "
                "ingevuld (protocol artikel 6)."
            ),
            code="undertaking_missing",
        )
