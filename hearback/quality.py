"""What went right and wrong in a transcript, for the user: the `quality` block and its warnings.

Warnings are plain sentences with a stable `code` and their values (`details`), so that the web
page can say them in French; the CLI prints them on stderr, the worker and the service return them.
"""

from __future__ import annotations

from typing import Any, Optional

from hearback.asr.language import shares
from hearback.errors import Notice
from hearback.result import SpeechRegion

UNTRANSCRIBED_WARNING = 2.0  # seconds of speech without words worth a warning
OTHER_LANGUAGE_SHARE = 0.05  # a second language holding this share of the speech is worth saying
NAMES = {"fr": "French", "en": "English", "de": "German", "es": "Spanish", "it": "Italian", "nl": "Dutch",
         "pt": "Portuguese"}


def warnings(speech: float, untranscribed: list[SpeechRegion], language_seconds: dict[str, float],
             asked: Optional[str], foreign: dict[str, float]) -> list[Notice]:
    out: list[Notice] = []
    lost = sum(r.end - r.start for r in untranscribed)
    if lost >= UNTRANSCRIBED_WARNING:
        out.append(Notice(f"{lost:.0f} s of speech could not be transcribed (see quality.untranscribed)",
                          "untranscribed_speech", {"seconds": round(lost, 1)}))
    heard = [s for s in shares(language_seconds) if s["share"] >= OTHER_LANGUAGE_SHARE]
    if len(heard) > 1:
        listed = ", ".join(f"{language_name(s['language'])} ({s['share']:.0%})" for s in heard)
        out.append(Notice(f"{len(heard)} languages heard: {listed}", "several_languages",
                          {"languages": [s["language"] for s in heard], "shares": [s["share"] for s in heard]}))
    for language, seconds in sorted(foreign.items(), key=lambda kv: -kv[1]):
        if seconds >= UNTRANSCRIBED_WARNING:
            out.append(Notice(f"{seconds:.0f} s of speech were in {language_name(language)} although "
                              f"{language_name(asked or '')} was asked: transcribed in {language_name(language)}",
                              "other_language", {"seconds": round(seconds, 1), "language": language,
                                                 "asked": asked or ""}))
    return out


def language_name(code: str) -> str:
    return NAMES.get(code, code)


def notice_dict(notice: Notice) -> dict[str, Any]:
    return {"code": notice.code, "text": notice.text, "details": notice.details}
