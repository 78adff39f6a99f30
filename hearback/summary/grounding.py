"""Tie each action item the model proposed to the transcript line it came from, and take its
owner and deadline from that line.

A small model gets the *what* of a commitment right far more often than the *who*: on the test
model, tasks and deadlines were copied well while owners were shifted to the next speaker. So the
line whose words best match the task (and its deadline) is found, its start becomes the item's
`quote_start`, and the owner is checked against it: the model's owner is kept when that line's
speaker is them or the line names them; otherwise the person the line names ("Claire, can you
...") or else the speaker who committed. An item that matches no line is dropped: it was not said;
so is one whose line (with the owner's reply) commits no one: an opinion is not an action item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Optional

import hearback.summary.dates as dates
from hearback.summary.commitments import commits
from hearback.summary.pieces import Line
from hearback.summary.schema import ActionItem, ProposedItem

STEM = 5  # words compare on their first letters: "prépare" and "préparer" are one word
MIN_WORD = 3
DUE_WEIGHT = 2  # a deadline's words placing an item on a line count more than its task's
REPLY_LINES = 2  # "Claire, can you...?" "Yes, by Friday.": the deadline may come in the owner's reply
STOP_WORDS = set("""
les des une pour que qui dans sur par pas est sont avec mais tout tous cette ces son ses leur nous vous
elle ils elles lui moi toi oui non bien fait faire peux peut vais veux dois doit ici avant apres
the and for you your will can could would should with this that these those are was were have has
from into before after yes not but all its our their them they she his her him
""".split())


@dataclass(frozen=True)
class Person:
    """Someone an action item may belong to: a speaker of the transcript (a name, or a cluster
    label such as SPEAKER_01) or an enrolled speaker of the workspace."""

    name: str
    speaker_id: Optional[str] = None


def ground(items: list[ProposedItem], lines: list[Line], people: list[Person], language: str,
           reference: Optional[date]) -> list[ActionItem]:
    """The items that match a line, with their line's start, checked owner and deadline; repeats
    of one commitment (the request and its acceptance) are kept once."""
    grounded: list[ActionItem] = []
    for item in items:
        at = _best_line(item, lines)
        if at is None:
            continue
        line = lines[at]
        owner = _owner(item.owner, line, people)
        said = " ".join(x.text for x in _window(lines, at, owner))
        if not commits(said, language):
            continue
        due = _deadline(item, said, language, reference)
        found = ActionItem(owner=owner.name, task=item.task.strip(), due=due, quote_start=line.start,
                           speaker_id=owner.speaker_id)
        if not any(_same(found, other) for other in grounded):
            grounded.append(found)
    return grounded


def words(text: str) -> set[str]:
    return {w[:STEM] for w in re.findall(r"[a-z0-9]+", dates.plain(text))
            if (len(w) >= MIN_WORD or w.isdigit()) and w not in STOP_WORDS}


def _best_line(item: ProposedItem, lines: list[Line]) -> Optional[int]:
    task, due = words(item.task), words(item.due or "")
    best, best_score = None, 0
    for at, line in enumerate(lines):
        said = words(line.text)
        if not task & said:
            continue
        score = len(task & said) + DUE_WEIGHT * len(due & said)
        if score > best_score:
            best, best_score = at, score
    return best


def _owner(proposed: str, line: Line, people: list[Person]) -> Person:
    speaker = _person(line.speaker, people) or Person(line.speaker)
    named = [p for p in people if p.name != line.speaker and _names(line.text, p.name)]
    for candidate in (speaker, *named):
        if proposed.strip() and _names(proposed, candidate.name):
            return candidate
    return named[0] if named else speaker


def _window(lines: list[Line], at: int, owner: Person) -> list[Line]:
    """The quoted line and the owner's reply to it: where the commitment and its deadline were said."""
    return [lines[at], *(line for line in lines[at + 1:at + 1 + REPLY_LINES] if line.speaker == owner.name)]


def _deadline(item: ProposedItem, said: str, language: str, reference: Optional[date]) -> Optional[str]:
    """The model's deadline when its words were said on the line (or in the owner's reply),
    else a deadline said there, else none."""
    if item.due and words(item.due) and words(item.due) <= words(said):
        return dates.resolve(item.due, language, reference).value
    found = dates.find(said, language, reference)
    return found.value if found else None


def _person(name: str, people: list[Person]) -> Optional[Person]:
    return next((p for p in people if p.name == name), None)


def _names(text: str, name: str) -> bool:
    """Whether `text` names `name`: the whole name, or its first word ("Claire" for "Claire Dubois")."""
    flat, full = f" {_flat(text)} ", _flat(name)
    first = full.split()[0] if full else ""
    return bool(full) and (f" {full} " in flat or (len(first) >= MIN_WORD and f" {first} " in flat))


def _flat(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9_]+", dates.plain(text)))


def _same(a: ActionItem, b: ActionItem) -> bool:
    return a.owner == b.owner and (a.quote_start == b.quote_start
                                   or (a.due == b.due and bool(words(a.task) & words(b.task))))
