"""A finished transcript in, a `Summary` out: map-reduce over pieces that fit the model's context.

Each piece (the whole transcript when it fits) is summarised on its own: summary, decisions,
action items, open questions. Action items are grounded on the piece's lines; decisions,
questions and items of all pieces are put together in order, and the pieces' summaries are merged
by the model into one (in groups that fit, as many rounds as a 4-hour session needs). An answer
that is not the JSON asked for is asked again once, told what was wrong; a second bad answer
fails the summary with the reason.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from pydantic import BaseModel, ValidationError

from hearback.errors import ConfigError, SummaryError
from hearback.progress import StepProgress, silent
from hearback.result import Transcript
from hearback.settings import Settings
import hearback.summary.prompts as prompts
from hearback.summary.client import ChatClient
from hearback.summary.dates import plain
from hearback.summary.grounding import Person, ground
from hearback.summary.pieces import Line, lines_of, render, split, tokens
from hearback.summary.schema import ActionItem, Kind, MergedAnswer, PieceAnswer, Summary, answer_type

log = logging.getLogger(__name__)
CAMPAIGN_WORDS = ("campagne", "campaign", "campana")  # a session tagged with one of them gets a recap
TEMPLATE_TOKENS = 64  # the chat template's own tokens around the messages
MIN_PIECE_TOKENS = 256  # a context smaller than this besides the answer is a misconfiguration


@dataclass
class SummaryContext:
    """What the summary knows besides the transcript."""

    title: str = ""
    tag: str = ""
    recorded_at: Optional[date] = None  # resolves "vendredi", "le 15 mars" into dates
    kind: Optional[Kind] = None  # None: from the tag
    people: list[Person] = field(default_factory=list)  # enrolled speakers, who may be named as owners

    @property
    def session_kind(self) -> Kind:
        if self.kind:
            return self.kind
        return "campaign" if any(word in plain(self.tag) for word in CAMPAIGN_WORDS) else "meeting"


def summarize(transcript: Transcript, settings: Settings, context: Optional[SummaryContext] = None,
              progress: StepProgress = silent) -> Summary:
    context = context or SummaryContext()
    client = ChatClient(settings)
    try:
        return _Run(client, settings, transcript, context, progress).summary()
    finally:
        client.close()


class _Run:
    """One summary's requests, and what they need to share."""

    def __init__(self, client: ChatClient, settings: Settings, transcript: Transcript, context: SummaryContext,
                 progress: StepProgress):
        self.client, self.settings, self.context, self.progress = client, settings, context, progress
        self.language = transcript.language or "en"
        self.kind = context.session_kind
        self.lines = lines_of(transcript)
        self.speakers = list(dict.fromkeys(line.speaker for line in self.lines))
        self.people = _people(transcript, self.speakers, context.people)
        self.model, self.calls, self.done = settings.llm_model, 1, 0

    def summary(self) -> Summary:
        if not self.lines:
            raise SummaryError("the transcript holds no words to summarise", "nothing_to_summarise")
        pieces = split(self.lines, self._room(prompts.overhead(self.language, self.kind)))
        self.calls = len(pieces) + (len(pieces) > 1)
        answers = [self._piece(piece, number, len(pieces)) for number, piece in enumerate(pieces, 1)]
        items: list[ActionItem] = []
        for piece, answer in zip(pieces, answers):
            items += [i for i in self._ground(answer, piece) if not any(_same_item(i, o) for o in items)]
        merged = answers[0] if len(answers) == 1 else self._merge([a.summary for a in answers])
        return Summary(language=self.language, kind=self.kind, summary=merged.summary.strip(),
                       decisions=_distinct(d for a in answers for d in a.decisions), action_items=items,
                       open_questions=_distinct(q for a in answers for q in a.open_questions),
                       recap=getattr(merged, "recap", None), model=self.model, pieces=len(pieces))

    def _room(self, overhead: str) -> int:
        room = self.settings.llm_context - self.settings.llm_max_tokens - tokens(overhead) - TEMPLATE_TOKENS
        if room < MIN_PIECE_TOKENS:
            raise ConfigError(f"HEARBACK_LLM_CONTEXT={self.settings.llm_context} leaves no room for a transcript "
                              f"next to HEARBACK_LLM_MAX_TOKENS={self.settings.llm_max_tokens}: raise the first or "
                              "lower the second", "summary_unavailable")
        return room

    def _piece(self, piece: list[Line], number: int, count: int) -> PieceAnswer:
        messages = prompts.piece(self.language, self.kind, render(piece), number, count)
        return self._ask(messages, answer_type(self.kind, merged=False))

    def _ground(self, answer: PieceAnswer, piece: list[Line]) -> list[ActionItem]:
        return ground(answer.action_items, piece, self.people, self.language, self.context.recorded_at)

    def _merge(self, partials: list[str]) -> MergedAnswer:
        """The pieces' summaries into one, in groups that fit the context, round after round."""
        room = self._room("".join(m["content"] for m in prompts.merge(self.language, self.kind, [])))
        while True:
            groups = _groups(partials, room)
            if len(groups) == 1:
                return self._ask(prompts.merge(self.language, self.kind, partials), answer_type(self.kind, True))
            self.calls += len(groups)
            partials = [self._ask(prompts.merge(self.language, "meeting", g), MergedAnswer).summary for g in groups]

    def _ask(self, messages: prompts.Messages, answer: type[BaseModel]):
        """One answer of the `answer` shape: asked again once, told what was wrong, then failed."""
        schema, problem = answer.model_json_schema(), ""
        for attempt in (1, 2):
            started = time.perf_counter()
            asked = messages if attempt == 1 else prompts.retry(messages, self.language, problem)
            reply = self.client.complete(asked, schema, answer.__name__)
            self.model = self.model or reply.model
            log.info("language model answered in %.1f s (attempt %d, %d characters)",
                     time.perf_counter() - started, attempt, len(reply.text))
            try:
                if reply.truncated:
                    raise ValueError(f"cut short at HEARBACK_LLM_MAX_TOKENS={self.settings.llm_max_tokens} tokens")
                parsed = answer.model_validate_json(_json_part(reply.text))
            except (ValidationError, ValueError) as exc:
                problem = _problem(exc)
                log.info("invalid answer from the language model (attempt %d): %s", attempt, problem)
                continue
            self.done += 1
            self.progress(self.done / max(self.calls, self.done))
            return parsed
        raise SummaryError(f"the language model's answer was invalid twice ({problem}); ask for the summary again "
                           "or use a larger model", "llm_invalid_output", problem=problem)


def _people(transcript: Transcript, speakers: list[str], enrolled: list[Person]) -> list[Person]:
    """The transcript's speakers (with their enrolled ids when named) and the enrolled speakers."""
    ids = {i.name: i.speaker_id for i in transcript.identifications if i.name}
    present = [Person(name, ids.get(name)) for name in speakers]
    return present + [p for p in enrolled if p.name not in speakers]


def _groups(partials: list[str], room: int) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    used = 0
    for text in partials:
        cost = tokens(text) + 8
        if groups[-1] and used + cost > room:
            groups.append([])
            used = 0
        groups[-1].append(text)
        used += cost
    return groups


def _json_part(text: str) -> str:
    """The JSON object of an answer, without the Markdown fence some models put around it."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    return match.group(0) if match else text


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else first["msg"]
    return str(exc)


def _distinct(texts) -> list[str]:
    seen, out = set(), []
    for text in (t.strip() for t in texts):
        if text and plain(text) not in seen:
            seen.add(plain(text))
            out.append(text)
    return out


def _same_item(a: ActionItem, b: ActionItem) -> bool:
    return a.owner == b.owner and a.quote_start == b.quote_start
