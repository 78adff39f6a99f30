"""Text folded for search: case, accents and typographic variants set aside, the same way on
SQLite and PostgreSQL (the folded text is stored beside the text, `utterances.search_text`,
and the words looked for are folded the same way)."""

from __future__ import annotations

import unicodedata

# Letters NFKD does not take apart, and the apostrophes and dashes people type interchangeably.
_REPLACED = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l",
                           "đ": "d", "Đ": "d", "’": "'", "‘": "'", "ʼ": "'", "‐": "-", "‑": "-", "–": "-",
                           "—": "-", "\u00a0": " ", "\u202f": " "})


def fold(text: str) -> str:
    """`"Différences"`, `"DIFFERENCES"` and `"différences"` all fold to `"differences"`."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_REPLACED))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
