"""Where identity goes wrong, by cause: the enrolled speech that does not carry its name, and the
strangers' speech that carries one (`bench/identity_eval.py`'s meetings and shipped settings).

Enrolled speech not named right is either found by no turn, given another name, left in an
unnamed cluster that is mostly the speaker's own (the name missed: a score under the bar), or in
an unnamed cluster that is mostly someone else's (the clustering merged them). A stranger's speech
named lies at the start or the end of the stranger's turn (a neighbour's turn reaching into it: a
boundary), covers the whole turn (a short turn clustered with an enrolled voice), or lies inside it.
Run it on the tuning half to decide what to work on next; the figures reported stay the test half's
(`bench/identity_eval.py --half test`).

It also says what perfect naming would reach on the same diarization (every cluster that is
mostly an enrolled voice's named after that voice, the others left unnamed): the ceiling of any
naming rule that names no stranger's cluster, short of better clustering and turns. And it says
what one bar alone would do, chosen with hindsight on the very half it is run on: the share of the enrolled speech lying in clusters mostly its speaker's own whose score with that
speaker's voiceprint beats every score of every stranger's cluster with the voiceprints a name could
go to (the participants; without them every enrolled voice). Against the shipped figure it tells
what the rules around the bar add (one name per cluster, the clear rule) and, without
participants, what a bar chosen on the other half costs here.

    python bench/identity_losses.py --half tune --cache /tmp/identity   # both enrolments, as identity_eval
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import devset  # noqa: E402
from bench.identity_eval import (FRAME, Bars, Meeting, clip_numbers, diarized, enrolment_sets, heard_in,  # noqa: E402
                                 hypothesis, named, summary)
from hearback.decode import SAMPLE_RATE  # noqa: E402
from hearback.embedders import CLEAR_PARTICIPANT, GUEST_THRESHOLD, IDENTIFY_THRESHOLD, PARTICIPANT_THRESHOLD  # noqa: E402
from hearback.embedders.centre import comparable  # noqa: E402
from hearback.identify import ClearRule, name_clusters  # noqa: E402
from hearback.pipeline import Pipeline  # noqa: E402
from hearback.vectors import unit  # noqa: E402
from service.settings import Settings  # noqa: E402

Span = tuple[float, float, str]
ENROLLED_CAUSES = ("named right", "no turn", "another name", "own cluster unnamed", "someone else's cluster, unnamed")
STRANGER_PLACES = ("turn start", "turn end", "whole turn", "inside the turn")


def majority(truth: list[Span], turns: list[Span]) -> dict[str, str]:
    """Cluster label -> the true speaker heard most in its turns."""
    return {label: counts.most_common(1)[0][0] for label, counts in heard_in(truth, turns).items() if counts}


def enrolled_losses(truth: list[Span], turns: list[Span], names: dict[str, str], enrolled: list[str]) -> Counter:
    """Seconds of the enrolled voices' speech, by ENROLLED_CAUSES (frames of FRAME seconds)."""
    owner = majority(truth, turns)
    out: Counter = Counter()
    for s, e, who in truth:
        if who not in enrolled:
            continue
        for f in np.arange(s, e, FRAME):
            labels = {label for a, b, label in turns if a <= f < b}
            given = {names.get(label) for label in labels}
            if who in given:
                cause = "named right"
            elif not labels:
                cause = "no turn"
            elif given - {None}:
                cause = "another name"
            elif any(owner.get(label) == who for label in labels):
                cause = "own cluster unnamed"
            else:
                cause = "someone else's cluster, unnamed"
            out[cause] += FRAME
    return out


def stranger_names(truth: list[Span], turns: list[Span], names: dict[str, str], enrolled: list[str]) -> Counter:
    """Seconds of the strangers' speech that carry a name, by STRANGER_PLACES."""
    out: Counter = Counter()
    for s, e, who in truth:
        if who in enrolled:
            continue
        for a, b, label in turns:
            start, end = max(s, a), min(e, b)
            if label in names and end > start:
                at_start, at_end = start <= s + 1e-6, end >= e - 1e-6
                place = ("whole turn" if at_start and at_end else "turn start" if at_start
                         else "turn end" if at_end else "inside the turn")
                out[place] += end - start
    return out


def losses(meeting: Meeting, diarization, voiceprints, mode: str, bars: Bars) -> tuple[Counter, Counter]:
    found = name_clusters(diarization.embeddings, voiceprints, *bars.of(mode), diarization.owners,
                          bars.clear if mode == "participants" else None)
    names = {i.label: i.name for i in found if i.name}
    turns = [(t.start, t.end, t.speaker) for t in diarization.turns]
    truth, enrolled = meeting.recording.turns, meeting.enrolled
    return enrolled_losses(truth, turns, names, enrolled), stranger_names(truth, turns, names, enrolled)


def perfect_naming(truth: list[Span], turns: list[Span], enrolled: list[str]) -> Counter:
    """`enrolled_losses` had every cluster mostly an enrolled voice's taken that voice's name (two
    clusters of one voice both, the rest none): what perfect naming would reach on this diarization,
    the part no threshold or rule can pass; what it misses is the clustering's and the turns'."""
    names = {label: who for label, who in majority(truth, turns).items() if who in enrolled}
    return enrolled_losses(truth, turns, names, enrolled)


def cluster_scores(meeting: Meeting, diarization, voiceprints) -> tuple[list[tuple[float, float]], list[float]]:
    """([(seconds of its speaker's speech, score with its speaker's voiceprint)] for the clusters
    mostly a listed voice's, [best score with any listed voiceprint] for those mostly a stranger's):
    cosines with the embedder's mean taken out, as the naming compares them. Listed: the
    participants (with participants), every enrolled voice (without)."""
    prints = {vp.name: comparable(vp.vector, vp.embedder) for vp in voiceprints if vp.expected}
    heard = heard_in(meeting.recording.turns, [(t.start, t.end, t.speaker) for t in diarization.turns])
    genuine, strangers = [], []
    for label, vector in diarization.embeddings.items():
        if not heard.get(label):
            continue
        who, seconds = heard[label].most_common(1)[0]
        cluster = unit(comparable(vector, voiceprints[0].embedder))
        scores = {name: float(cluster @ unit(v)) for name, v in prints.items()}
        if who in prints:
            genuine.append((seconds, scores[who]))
        elif scores:
            strangers.append(max(scores.values()))
    return genuine, strangers


def one_bar(genuine: list[tuple[float, float]], strangers: list[float], enrolled_seconds: float) -> tuple[float, float]:
    """(the hindsight bar: the highest stranger's score, share of the enrolled speech above it)."""
    bar = max(strangers, default=-1.0)
    return bar, sum(seconds for seconds, score in genuine if score > bar) / max(enrolled_seconds, 1e-9)


def show(title: str, counts: Counter, order: tuple[str, ...], total: float) -> None:
    print(f"\n{title}")
    print("| where | seconds | share |")
    print("|---|---|---|")
    for key in order:
        print(f"| {key} | {counts[key]:.1f} | {counts[key] / max(total, 1e-9):.2%} |")


def show_conditions(by_condition: dict[str, Counter]) -> None:
    """The enrolled speech named right, and its own cluster's name missed, per recording condition:
    which channel the names are lost on."""
    print("\n| condition | enrolled seconds | named right | own cluster unnamed |")
    print("|---|---|---|---|")
    for condition, counts in sorted(by_condition.items()):
        total = max(sum(counts.values()), 1e-9)
        print(f"| {condition} | {total:.0f} | {counts['named right'] / total:.1%} | "
              f"{counts['own cluster unnamed'] / total:.1%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=(devset.TUNE, devset.TEST), default=devset.TUNE)
    parser.add_argument("--meetings", type=int, default=72)
    parser.add_argument("--mode", choices=("named", "participants"), default="participants")
    parser.add_argument("--cache", default="", help="the embedded meetings' folder (shared with identity_eval)")
    parser.add_argument("--enrolments", default="0,1", type=clip_numbers,
                        help="the clip each voice is enrolled from (identity_eval)")
    args = parser.parse_args()
    pipeline = Pipeline(Settings.from_env(embedder="campp"))
    sets = enrolment_sets(pipeline, args.half, args.meetings, args.cache, args.enrolments)
    runs = [r for _, rs in sets for r in rs]
    bars = Bars(IDENTIFY_THRESHOLD["campp"], PARTICIPANT_THRESHOLD["campp"], GUEST_THRESHOLD["campp"],
                ClearRule(*CLEAR_PARTICIPANT["campp"]))
    enrolled, strangers, perfect, rows, genuine_scores, stranger_scores = Counter(), Counter(), Counter(), [], [], []
    by_condition: dict[str, Counter] = {}
    for meeting, diarization, voiceprints in diarized(sets, pipeline.embedder_name, args.mode):
        lost, named_strangers = losses(meeting, diarization, voiceprints, args.mode, bars)
        enrolled, strangers = enrolled + lost, strangers + named_strangers
        perfect += perfect_naming(meeting.recording.turns, hypothesis(diarization, {}), meeting.enrolled)
        by_condition[meeting.recording.condition] = by_condition.get(meeting.recording.condition, Counter()) + lost
        rows.append(named(meeting, diarization, voiceprints, args.mode, bars))
        genuine, stranger = cluster_scores(meeting, diarization, voiceprints)
        genuine_scores, stranger_scores = genuine_scores + genuine, stranger_scores + stranger
    totals = summary(rows)
    stranger_seconds = sum(e - s for m, _, _ in runs for s, e, who in m.recording.turns if who not in m.enrolled)
    print(f"{args.half} half, {args.mode}: {totals['named_right']:.1%} of the enrolled speech named right, "
          f"{totals['strangers_named']:.2%} of the strangers' speech named ({len(runs)} meetings, "
          f"{sum(len(m.recording.samples) for m, _, _ in runs) / SAMPLE_RATE / 60:.1f} min)")
    show("Enrolled speech", enrolled, ENROLLED_CAUSES, sum(enrolled.values()))
    show("Strangers' speech that carries a name", strangers, STRANGER_PLACES, stranger_seconds)
    show_conditions(by_condition)
    bar, share = one_bar(genuine_scores, stranger_scores, sum(enrolled.values()))
    print(f"\nOne bar alone, with hindsight: {share:.1%} of the enrolled speech lies in its own cluster scoring above "
          f"every stranger's cluster of the half (the highest: {bar:.3f}); the shipped bars are {bars.identify:.2f} "
          f"without participants, {bars.participant:.2f} for a participant, {bars.guest:.2f} for a guest")
    total = max(sum(perfect.values()), 1e-9)
    print(f"Perfect naming of this diarization (every cluster mostly an enrolled voice's named after it): "
          f"{perfect['named right'] / total:.1%} of the enrolled speech named right; the rest lies in no turn "
          f"({perfect['no turn'] / total:.1%}) or in a cluster mostly someone else's "
          f"({1 - (perfect['named right'] + perfect['no turn']) / total:.1%})")


if __name__ == "__main__":
    main()
