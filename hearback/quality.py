"""What went right and wrong in a transcript, for the user: the `quality` block and its warnings.

Warnings are plain sentences with a stable `code` and their values (`details`), so that the web
page can say them in French; the CLI prints them on stderr, the worker and the service return them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Sequence

from hearback.asr.language import shares
from hearback.errors import Notice
from hearback.result import SpeechRegion

if TYPE_CHECKING:
    from hearback.identify import Missed

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


def participants_notice(missed: Sequence["Missed"], threshold: Optional[float]) -> Optional[Notice]:
    """A warning naming the participants no speaker was recognised as: a listed person left out of
    the transcript is a question the user has, whether they stayed silent or sounded unlike their
    enrolment (a phone line, a codec, another language). None when every participant was named."""
    if not missed:
        return None
    listed = "; ".join(f"{m.name} (closest: {m.label}, score {m.score:.2f})" if m.label else m.name for m in missed)
    bar = f", a name needs {threshold:.2f}" if threshold is not None else ""
    return Notice(f"{len(missed)} participant(s) not recognised: {listed}{bar}. They may not have spoken, or sound "
                  f"different here (a phone line, a codec, another language): enrol them from a recording like this "
                  f"one, or lower HEARBACK_PARTICIPANT_THRESHOLD", "participants_not_named",
                  {"participants": [{"name": m.name, "speaker_id": m.speaker_id, "closest": m.label,
                                     "score": round(m.score, 3)} for m in missed],
                   "threshold": threshold})


def language_name(code: str) -> str:
    return NAMES.get(code, code)


def notice_dict(notice: Notice) -> dict[str, Any]:
    return {"code": notice.code, "text": notice.text, "details": notice.details}
