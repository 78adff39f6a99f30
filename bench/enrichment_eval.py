"""What voiceprints taken from sessions do to names: strangers heard the way a session was heard.

A speaker's voiceprints are matched by the closest one, at the same bar as an enrolment. Two paths
add voiceprints from sessions: enrichment (`speakers/enrichment.py`: a cluster named with a clear
margin becomes one more voiceprint) and a cluster named by hand on the web page or the API. This
bench replays both on `bench/identity_eval.py`'s meetings (both enrolments), taken as a series of
sessions in their order: each meeting is named once with the enrolments alone, and once with the
voiceprints the meetings before it would have given, in the same mode (no participants, or
participants):
- `enriched`: clusters the shipped rules named after a voice, with at least `--min-seconds` of
  speech (the diarization's, as the service counts it), scoring at least the naming threshold + margin with the voice's enrolment
  and beating every other enrolled voice of the meeting's workspace by the margin (the enrichment
  guard; the service also counts the other voices' enriched voiceprints for the runner-up); the
  `ENRICH_MAX` most recent a voice;
- `named by hand`: clusters at least `HAND_PURITY` one enrolled voice's, with the same least
  speech, from meetings recorded the same way (someone naming what they hear; no cap, as in the
  service).
Per mode: DER, the enrolled speech named right, the strangers' speech and clusters named, as
`identity_eval` counts them.

    python bench/enrichment_eval.py --half tune --margins 0.05,0.10,0.15,0.20,0.25,0.30 --cache DIR
    python bench/enrichment_eval.py --half test --cache DIR     # reported, never chosen on
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import devset  # noqa: E402
from bench.identity_eval import (Bars, Meeting, clip_numbers, clustered, diarized, enrolment_sets, heard_in,  # noqa: E402
                                 hypothesis, listed_voiceprints, named, summary)
from hearback.embedders import CLEAR_PARTICIPANT, GUEST_THRESHOLD, IDENTIFY_THRESHOLD, PARTICIPANT_THRESHOLD  # noqa: E402
from hearback.embedders.centre import comparable  # noqa: E402
from hearback.identify import ClearRule, KnownVoice, name_clusters  # noqa: E402
from hearback.pipeline import Pipeline  # noqa: E402
from service.settings import Settings  # noqa: E402

ENRICH_MAX = 5  # HEARBACK_ENRICH_MAX's default
HAND_PURITY = 0.97
Found = dict[str, list[tuple[int, Meeting, np.ndarray]]]  # voice -> (session number, meeting, cluster vector)


def enriched(diarized_meetings: list, embedder: str, bars: Bars, mode: str, margin: float, min_seconds: float) -> Found:
    """The clusters of `diarized_meetings` (in `mode`) the enrichment guard would keep: named after
    a voice by the shipped rules, `min_seconds` of speech, scoring at least the threshold + `margin`
    with the voice's enrolment and `margin` above every other enrolled voice."""
    out: Found = {}
    for number, (meeting, diarization, voiceprints) in enumerate(diarized_meetings):
        prints = {vp.name: comparable(vp.vector, embedder) for vp in voiceprints}
        for found in name_clusters(diarization.embeddings, voiceprints, *bars.of(mode), diarization.owners,
                                   bars.clear if mode == "participants" else None):
            if not found.name or diarization.speech_time.get(found.label, 0.0) < min_seconds:
                continue
            vector = diarization.embeddings[found.label]
            centred = comparable(vector, embedder)
            scores = {name: float(centred @ p) for name, p in prints.items()}
            rest = max((s for name, s in scores.items() if name != found.name), default=-1.0)
            if scores[found.name] >= bars.identify + margin and scores[found.name] - rest >= margin:
                out.setdefault(found.name, []).append((number, meeting, vector))
    return out


def named_by_hand(diarized_meetings: list, min_seconds: float) -> Found:
    """The clusters of `diarized_meetings` that are at least HAND_PURITY one enrolled voice's speech."""
    out: Found = {}
    for number, (meeting, diarization, _) in enumerate(diarized_meetings):
        heard = heard_in(meeting.recording.turns, hypothesis(diarization, {}))
        for label, vector in diarization.embeddings.items():
            counts = heard.get(label)
            if not counts:
                continue
            who, heard_seconds = counts.most_common(1)[0]
            if (who in meeting.enrolled and diarization.speech_time.get(label, 0.0) >= min_seconds
                    and heard_seconds / sum(counts.values()) >= HAND_PURITY):
                out.setdefault(who, []).append((number, meeting, vector))
    return out


def with_sessions(number: int, meeting: Meeting, voiceprints: list[KnownVoice], found: Found, same_condition: bool,
                  most: int | None) -> list[KnownVoice]:
    """`voiceprints` and, for each voice, the voiceprints of the clusters of the sessions before
    session `number` (of the same recording condition, when asked), the `most` recent ones."""
    out = list(voiceprints)
    for vp in voiceprints:
        earlier = [v for n, m, v in found.get(vp.name, []) if n < number
                   and (not same_condition or m.recording.condition == meeting.recording.condition)]
        recent = earlier[-most:] if most else earlier
        out += [KnownVoice(vp.name, v, vp.embedder, expected=vp.expected) for v in recent]
    return out


def rows(one_set: tuple[dict, list], embedder: str, mode: str, bars: Bars, found: Found | None,
         same_condition: bool = False, most: int | None = ENRICH_MAX) -> list[tuple]:
    """`identity_eval.named` rows of one enrolment's meetings, in order, with the voiceprints the
    sessions before each gave (`found`), if any."""
    prints, runs = one_set
    out = []
    for number, (meeting, run, regions) in enumerate(runs):
        voiceprints = listed_voiceprints(meeting, prints, mode, embedder)
        if found is not None:
            voiceprints = with_sessions(number, meeting, voiceprints, found, same_condition, most)
        out.append(named(meeting, clustered(run, regions, voiceprints, mode), voiceprints, mode, bars))
    return out


def show(title: str, r: dict, extra: str = "") -> None:
    print(f"| {title} | {r['der']:.3f} | {r['named_right']:.1%} | {r['strangers_named']:.2%} | "
          f"{r['stranger_clusters_named']:.2%} | {extra} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=(devset.TUNE, devset.TEST), default=devset.TUNE)
    parser.add_argument("--meetings", type=int, default=72)
    parser.add_argument("--cache", default="", help="the embedded meetings' folder (shared with identity_eval)")
    parser.add_argument("--enrolments", default="0,1", type=clip_numbers)
    parser.add_argument("--margins", default="0.05", type=lambda t: [float(x) for x in t.split(",")],
                        help="enrichment margins to replay (HEARBACK_ENRICH_MARGIN)")
    parser.add_argument("--min-seconds", type=float, default=10.0, help="HEARBACK_ENRICH_MIN_SECONDS")
    args = parser.parse_args()
    pipeline = Pipeline(Settings.from_env(embedder="campp"))
    embedder = pipeline.embedder_name
    sets = enrolment_sets(pipeline, args.half, args.meetings, args.cache, args.enrolments)
    bars = Bars(IDENTIFY_THRESHOLD["campp"], PARTICIPANT_THRESHOLD["campp"], GUEST_THRESHOLD["campp"],
                ClearRule(*CLEAR_PARTICIPANT["campp"]))
    print(f"{args.half} half, {sum(len(rs) for _, rs in sets)} meetings ({len(sets)} enrolment(s)), CAM++")
    print("| mode, voiceprints | DER | enrolled speech named right | strangers' speech named | strangers' clusters named "
          "| session voiceprints |")
    print("|---|---|---|---|---|---|")
    for mode in ("named", "participants"):
        meetings = [diarized([one], embedder, mode) for one in sets]
        show(f"{mode}, enrolments only", summary([r for one in sets for r in rows(one, embedder, mode, bars, None)]))
        for margin in args.margins:
            found = [enriched(m, embedder, bars, mode, margin, args.min_seconds) for m in meetings]
            table = [r for one, f in zip(sets, found) for r in rows(one, embedder, mode, bars, f)]
            show(f"{mode}, + enriched (margin {margin:.2f})", summary(table), f"{sum(len(v) for f in found for v in f.values())}")
        found = [named_by_hand(m, args.min_seconds) for m in meetings]
        table = [r for one, f in zip(sets, found) for r in rows(one, embedder, mode, bars, f, same_condition=True, most=None)]
        show(f"{mode}, + named by hand (same condition)", summary(table), f"{sum(len(v) for f in found for v in f.values())}")

if __name__ == "__main__":
    main()
