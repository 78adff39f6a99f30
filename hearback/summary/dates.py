"""Deadlines as people say them ("d'ici le 15 mars", "vendredi", "by March 20") turned into dates.

A language model copies a deadline's words well but computes dates badly, so the model gives the
words and this module resolves them against the session's date: a month and day take the year
that puts them near the meeting, a weekday is the next one after it. Without a session date only
complete dates resolve; anything else stays in the words that were said.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional

PAST_TOLERANCE_DAYS = 31  # "le 2 mars" said on 10 March is this year's, said in May it is next year's

MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12,
}
WEEKDAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
            "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
RELATIVE = {"aujourd'hui": 0, "aujourdhui": 0, "today": 0, "demain": 1, "tomorrow": 1, "apres-demain": 2}

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(WEEKDAYS)
_DAY = r"(?P<day>\d{1,2})(?:er|st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
PATTERNS = [
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?(?P<mname>{_MONTH})\b{_YEAR}"),
    re.compile(rf"\b(?P<mname>{_MONTH})\.?\s+{_DAY}\b{_YEAR}"),
    re.compile(r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<year>\d{4}))?\b"),
    re.compile(rf"\b(?P<weekday>{_WEEKDAY})\b"),
    re.compile(r"(?P<relative>aujourd'?hui|today|apres-demain|demain|tomorrow)"),
]
EXPLICIT = 4  # PATTERNS before this index name a day of a month


@dataclass(frozen=True)
class Deadline:
    said: str  # the words, as in the transcript
    day: Optional[date]  # resolved, when it could be

    @property
    def value(self) -> str:
        """What an action item's `due` holds: an ISO date when resolved, else the words."""
        return self.day.isoformat() if self.day else self.said


def plain(text: str) -> str:
    """Lower case without accents: "Février" and "fevrier" are one word."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def find(text: str, language: str = "fr", reference: Optional[date] = None) -> Optional[Deadline]:
    """The first deadline named in `text`, resolved against `reference` (the session's date)."""
    flat = plain(text)
    # A day and month ("vendredi 13 mars") say more than the weekday next to them.
    found = [(rank >= EXPLICIT, m.start(), m) for rank, pattern in enumerate(PATTERNS) if (m := pattern.search(flat))]
    if not found:
        return None
    match = min(found, key=lambda item: item[:2])[2]
    return Deadline(_original(text, match), _resolve(match, language, reference))


def resolve(said: str, language: str = "fr", reference: Optional[date] = None) -> Deadline:
    """A deadline phrase as the model gave it: a date when it names one, else the words."""
    found = find(said, language, reference)
    return Deadline(said.strip(), found.day if found else None)


def _original(text: str, match: re.Match) -> str:
    """The matched words as written (accents kept): `plain` keeps the text's length for these scripts."""
    span = text[match.start():match.end()]
    return span if len(text) == len(plain(text)) else match.group(0)


def _resolve(match: re.Match, language: str, reference: Optional[date]) -> Optional[date]:
    groups = match.groupdict()
    year = int(groups["year"]) if groups.get("year") else None
    if groups.get("relative"):
        return reference + timedelta(days=RELATIVE[groups["relative"]]) if reference else None
    if groups.get("weekday"):
        if reference is None:
            return None
        ahead = (WEEKDAYS[groups["weekday"]] - reference.weekday()) % 7 or 7
        return reference + timedelta(days=ahead)
    if groups.get("mname"):
        month, day = MONTHS[groups["mname"]], int(groups["day"])
    elif groups.get("a"):
        first, second = int(groups["a"]), int(groups["b"])
        day, month = (second, first) if language == "en" else (first, second)
    else:
        month, day = int(groups["month"]), int(groups["day"])
    return _dated(year, month, day, reference)


def _dated(year: Optional[int], month: int, day: int, reference: Optional[date]) -> Optional[date]:
    if year is None:
        if reference is None:
            return None
        year = reference.year
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate < reference - timedelta(days=PAST_TOLERANCE_DAYS):
            year += 1
    return _safe_date(year, month, day)


def _safe_date(year: int, month: int, day: int) -> Optional[date]:
    try:
        return date(year, month, day)
    except ValueError:
        return None
