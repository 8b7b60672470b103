from __future__ import annotations

from django.dispatch import Signal

# Sent inside the merge transaction with ``survivor`` and ``merged_public_id`` (the temporary
# pupil's public_id, which stops existing): the rest of i-Learn re-keys its data on it.
pupil_merged = Signal()
