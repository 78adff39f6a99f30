"""Write a transcript as json, srt, vtt, txt or rttm. Speakers are shown in every format:
`[Alice] text` in SRT and txt, a `<v Alice>` voice span in WebVTT; RTTM (the diarization
exchange format of NIST, read by pyannote.metrics and dscore) lists who spoke when, overlaps
included, one turn per line.

Names and texts are escaped for each format: a line break, a control character or an arrow `-->`
in a speaker's name or a segment's text can never end a cue, start a new one or forge a line, and
a name's markup never reaches a player (stripped in SRT, entities in WebVTT).
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from hearback.errors import InputError
from hearback.result import Transcript

FORMATS = ("json", "srt", "vtt", "txt", "rttm")
RTTM_FILE = "hearback"  # the file id of RTTM lines (the recording has no name of its own here)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # line breaks (also Unicode's) and control characters
MARKUP = re.compile(r"</?[A-Za-z][^<>]*>|\{\\[^{}]*\}")  # SRT players' HTML-like tags and {\an8}-style overrides
INERT = str.maketrans("<", "\u2039")  # a lone `<` left in a name: ‹, which opens no tag


def check_format(name: str | None) -> str:
    value = (name or "json").strip().lower()
    if value not in FORMATS:
        raise InputError(f"unknown output format {name!r}: use one of {', '.join(FORMATS)}", "unknown_format",
                         format=str(name), formats=", ".join(FORMATS))
    return value


def render(transcript: Transcript | Mapping[str, Any], fmt: str) -> str:
    """Render a `Transcript` (or its JSON dict, as stored by the service) in `fmt`."""
    fmt = check_format(fmt)
    data = transcript.to_dict() if isinstance(transcript, Transcript) else transcript
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "rttm":
        return to_rttm(data.get("turns") or _turns_of(data["transcription"]["segments"]))
    segments = [s for s in data["transcription"]["segments"] if s["text"].strip()]
    if fmt == "srt":
        return to_srt(segments)
    if fmt == "vtt":
        return to_vtt(segments)
    return to_txt(segments)


def to_srt(segments: list[Mapping[str, Any]]) -> str:
    blocks = []
    for i, s in enumerate(segments, 1):
        text = f"[{_srt_name(s['speaker'])}] {one_line(s['text'])}" if s.get("speaker") else one_line(s["text"])
        blocks.append(f"{i}\n{timestamp(s['start'], ',')} --> {timestamp(s['end'], ',')}\n{text}\n")
    return "\n".join(blocks)


def to_vtt(segments: list[Mapping[str, Any]]) -> str:
    blocks = ["WEBVTT\n"]
    for s in segments:
        text = _escape_vtt(s["text"].strip())
        if s.get("speaker"):
            text = f"<v {_escape_vtt(s['speaker'])}>{text}"
        blocks.append(f"{timestamp(s['start'], '.')} --> {timestamp(s['end'], '.')}\n{text}\n")
    return "\n".join(blocks)


def to_rttm(turns: list[Mapping[str, Any]], file_id: str = RTTM_FILE) -> str:
    """`SPEAKER file 1 start duration <NA> <NA> name <NA> <NA>`, one line per turn, by start; a name's
    spaces become underscores (RTTM fields are separated by whitespace)."""
    lines = []
    for t in sorted(turns, key=lambda t: (t["start"], t["end"])):
        name = "_".join(one_line(t["speaker"]).split()) or "unknown"
        lines.append(f"SPEAKER {file_id} 1 {t['start']:.3f} {t['end'] - t['start']:.3f} <NA> <NA> {name} <NA> <NA>")
    return "\n".join(lines) + ("\n" if lines else "")


def _turns_of(segments: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Turns read off the segments, for transcripts stored before turns were kept."""
    return [{"start": s["start"], "end": s["end"], "speaker": s["speaker"]} for s in segments if s.get("speaker")]


def to_txt(segments: list[Mapping[str, Any]]) -> str:
    """One paragraph per speaker turn: consecutive segments of one speaker are joined."""
    lines: list[str] = []
    current, texts, start = None, [], 0.0
    for s in segments:
        if texts and s.get("speaker") != current:
            lines.append(_txt_line(current, start, texts))
            texts = []
        if not texts:
            current, start = s.get("speaker"), s["start"]
        texts.append(one_line(s["text"]))
    if texts:
        lines.append(_txt_line(current, start, texts))
    return "\n".join(lines) + ("\n" if lines else "")


def _txt_line(speaker, start: float, texts: list[str]) -> str:
    body = " ".join(texts)
    stamp = timestamp(start, ".")[:-4]
    return f"[{stamp}] {one_line(speaker)}: {body}" if speaker else f"[{stamp}] {body}"


def timestamp(seconds: float, separator: str) -> str:
    millis = int(round(max(0.0, seconds) * 1000))
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def one_line(text: str) -> str:
    """`text` on one line: line breaks and control characters become spaces, `-->` (the cue
    timing arrow of SRT and WebVTT) becomes `->`."""
    flat = _flat(text)
    while "-->" in flat:
        flat = flat.replace("-->", "->")
    return flat


def _srt_name(name: str) -> str:
    """A speaker's name in SRT, which has no escaping: its markup is dropped (a name `<b>Eve</b>` would
    show bold, `<font>` recolour the line), what remains is one line where no `<` is left to open a tag."""
    return " ".join(one_line(MARKUP.sub("", str(name))).translate(INERT).split())


def _flat(text: str) -> str:
    return CONTROL.sub(" ", str(text)).strip()


def _escape_vtt(text: str) -> str:
    """One line, with `&`, `<` and `>` as entities (so no tag and no `-->` arrow is left)."""
    return _flat(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
