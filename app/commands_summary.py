"""`hearback summarize TRANSCRIPT.json`, and the summary of `hearback transcribe --summary`: a
finished transcript to a language model (HEARBACK_LLM_URL), the summary out as Markdown or JSON.

`summarize` fails with one line and exit status 2 when the summary cannot be made;
`transcribe --summary` keeps its transcript whatever the summary does, and says on stderr why a
summary failed."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from hearback.errors import InputError
from service.settings import Settings

if TYPE_CHECKING:
    from hearback.result import Transcript
    from hearback.summary import Outcome

KINDS = ("meeting", "campaign")


def register(commands) -> None:
    s = commands.add_parser("summarize", help="summary, decisions and action items of a transcript (a language model)")
    s.add_argument("transcript", help="a transcript in Hearback's JSON (hearback transcribe, or the service's)")
    s.add_argument("--format", default="md", choices=("md", "json"), help="md (Markdown, default) or json")
    s.add_argument("--output", "-o", default=None, help="write to this file instead of stdout")
    add_options(s, prefix="")
    s.set_defaults(run=run_summarize)


def add_options(parser, prefix: str = "summary-") -> None:
    parser.add_argument(f"--{prefix}kind", choices=KINDS, default=None,
                        help="campaign adds a recap for the players (default: campaign when the transcript's tag "
                             "contains 'campagne' or 'campaign')")
    parser.add_argument(f"--{prefix}date" if prefix else "--date", default=None, metavar="YYYY-MM-DD",
                        help="the day it was recorded: deadlines such as 'vendredi' become dates")


def run_summarize(args) -> int:
    from hearback.result import Transcript
    from hearback.summary import SummaryContext, markdown, summarize

    day = _day(args.date)
    data = _read(Path(args.transcript))
    try:
        transcript = Transcript.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{args.transcript} is not a Hearback transcript ({type(exc).__name__}: {exc})") from None
    context = SummaryContext(str(data.get("title") or ""), str(data.get("tag") or ""), day, args.kind)
    summary = summarize(transcript, Settings.from_env(), context)
    text = markdown(summary) if args.format == "md" else json.dumps(summary.model_dump(), ensure_ascii=False, indent=2) + "\n"
    _write(text, args.output)
    return 0


def summary_after_transcript(transcript: "Transcript", args, settings: Settings) -> "Outcome":
    """`transcribe --summary`: the outcome, done or failed (said on stderr); never raises."""
    from hearback.summary import SummaryContext, attempt, markdown

    outcome = attempt(transcript, settings, SummaryContext(recorded_at=_day(args.summary_date), kind=args.summary_kind))
    if outcome.summary is None:
        print(f"hearback: warning: the transcript is kept but the summary failed: {outcome.reason}", file=sys.stderr)
    elif args.summary_output:
        _write(markdown(outcome.summary), args.summary_output)
    return outcome


def with_summary(rendered: str, document: dict[str, Any], fmt: str, outcome: "Outcome") -> str:
    """The transcript's text with its summary: a `summary` key in JSON, the Markdown after a txt."""
    from hearback.formats import render
    from hearback.summary import markdown

    if fmt == "json":
        return render({**document, "summary": outcome.to_dict()}, "json")
    if fmt == "txt" and outcome.summary is not None:
        return f"{rendered.rstrip()}\n\n{markdown(outcome.summary)}"
    return rendered


def check_options(args, fmt: str, settings: Settings) -> None:
    """Before transcribing: a summary that could never be made or written is refused now."""
    from hearback.summary.client import check

    check(settings)
    if fmt in ("srt", "vtt") and not args.summary_output:
        raise InputError(f"a {fmt} file has no room for a summary: give --summary-output FILE.md as well")
    _day(args.summary_date)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path} is not a JSON transcript ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("transcription"), dict):
        raise InputError(f"{path} is not a Hearback transcript: it has no \"transcription\" object")
    return data


def _day(value: Optional[str]) -> Optional[date]:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--date {value!r} is not a date: use YYYY-MM-DD") from None


def _write(text: str, output: Optional[str]) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
