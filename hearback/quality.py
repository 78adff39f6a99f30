"""What went right and wrong in a transcript, for the user: the `quality` block and its warnings.

Warnings are plain sentences with a stable `code` and their values (`details`), so that the web
page can say them in French; the CLI prints them on stderr, the worker and the service return them.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from hearback.asr.language import shares
from hearback.errors import Notice
from hearback.result import Missed, SpeechRegion

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


MISSED = "participants_not_named"


def participants_notice(missed: Sequence[Missed], threshold: Optional[float],
                        shown: Optional[dict[str, str]] = None) -> Optional[Notice]:
    """A warning naming the participants no speaker was recognised as: a listed person left out of
    the transcript is a question the user has, whether they stayed silent or sounded unlike their
    enrolment (a phone line, a codec, another language). `shown`: the name a cluster label is shown
    under (the closest cluster may be someone else's). None when every participant was named."""
    if not missed:
        return None
    shown = shown or {}

    def said(m: Missed) -> str:
        who, closest = m.name or m.speaker_id, shown.get(m.label or "", m.label)
        if m.rival:
            return f"{who} ({closest} matched at {m.score:.2f}, but someone else enrolled is as close)"
        return f"{who} (closest: {closest}, score {m.score:.2f})" if m.label else str(who)

    bar = f", a name needs {threshold:.2f}" if threshold is not None else ""
    return Notice(f"{len(missed)} participant(s) not recognised: {'; '.join(map(said, missed))}{bar}. They may not "
                  f"have spoken, or sound different here (a phone line, a codec, another language): enrol them from a "
                  f"recording like this one, or lower the participants' threshold", MISSED,
                  {"participants": [{"name": m.name, "speaker_id": m.speaker_id, "closest": m.label,
                                     "shown": shown.get(m.label or "", m.label), "score": round(m.score, 3),
                                     "rival": m.rival} for m in missed],
                   "threshold": threshold})


def missed_in(warnings: Sequence[dict[str, Any]]) -> tuple[list[Missed], Optional[float]]:
    """The participants a `participants_notice` in `warnings` (as stored) names, and its bar."""
    said = next((w for w in warnings if w.get("code") == MISSED), None)
    details = (said or {}).get("details") or {}
    return ([Missed(p.get("name"), p.get("speaker_id"), p.get("closest"), float(p.get("score") or 0.0),
                    bool(p.get("rival"))) for p in details.get("participants", [])], details.get("threshold"))


def with_missed(warnings: Sequence[dict[str, Any]], missed: Sequence[Missed], threshold: Optional[float],
                shown: Optional[dict[str, str]] = None) -> list[dict[str, Any]]:
    """`warnings` with their `participants_notice` said again for `missed` (or dropped)."""
    notice = participants_notice(missed, threshold, shown)
    return [w for w in warnings if w.get("code") != MISSED] + ([notice_dict(notice)] if notice else [])


def language_name(code: str) -> str:
    return NAMES.get(code, code)


def notice_dict(notice: Notice) -> dict[str, Any]:
    return {"code": notice.code, "text": notice.text, "details": notice.details}
