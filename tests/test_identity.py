"""Participants anchor the diarization: their voiceprints decide who speaks while the recording
is clustered, two participants are never merged, strangers stay unnamed, and a voice enrolled
but not expected needs a stricter bar. Real voices and the real models (CAM++, segmentation-3.0,
Whisper base), plus the clustering's rules on vectors made to test them."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ENROL, clip, meeting
from scipy.cluster.hierarchy import fcluster, linkage

from bench.evaluation import diarization_error_rate, read_rttm
from hearback.decode import Audio
from hearback.diarize.anchors import Participant, participant_scores, tie_windows
from hearback.diarize.cluster import cluster_windows
from hearback.diarize.linkage import FREE, average_linkage
from hearback.embedders import PARTICIPANT_THRESHOLD
from hearback.formats import render
from hearback.identify import KnownVoice, missed_participants, name_clusters
from hearback.pipeline import Options
from hearback.quality import participants_notice
from hearback.vectors import unit


def voices(rng, centres: np.ndarray, counts: list[int], spread: float) -> np.ndarray:
    return unit(np.concatenate([centres[k] + rng.standard_normal((n, centres.shape[1])) * spread
                                     for k, n in enumerate(counts)]))


def test_the_linkage_without_anchors_is_scipys_average_linkage():
    rng = np.random.default_rng(3)
    for _ in range(10):
        k = int(rng.integers(1, 6))
        x = voices(rng, rng.standard_normal((k, 48)), list(rng.integers(5, 60, k)), float(rng.uniform(0.3, 1.2)))
        reference = fcluster(linkage(x, method="average", metric="cosine"), 1 - 0.35, criterion="distance")
        ours = average_linkage(x, 0.35, 1, 10 ** 6, np.full(len(x), FREE))
        assert len(set(zip(reference, ours))) == len(set(reference)) == len(set(ours))


def test_two_participants_are_never_merged_and_their_windows_stay_together():
    rng = np.random.default_rng(4)
    close = rng.standard_normal(32)
    centres = np.stack([close, close + rng.standard_normal(32) * 0.15, rng.standard_normal(32)])
    x = voices(rng, centres, [30, 30, 30], 0.5)
    free = cluster_windows(x, 0.35)
    assert len(set(free[:60])) == 1  # the two close voices merge when nothing is known
    tags = np.full(90, FREE)
    tags[:5], tags[30:35] = 0, 1  # a few windows of each clearly match a participant
    anchored = cluster_windows(x, 0.35, tags=tags)
    assert anchored[0] != anchored[30]
    assert len(set(anchored[:5])) == 1 and len(set(anchored[30:35])) == 1
    assert len(set(anchored[60:])) == 1 and anchored[60] not in (anchored[0], anchored[30])  # the stranger


def test_max_speakers_still_holds_with_anchors_but_never_merges_two_participants():
    rng = np.random.default_rng(5)
    x = voices(rng, rng.standard_normal((4, 32)) * 3, [20, 20, 20, 20], 0.4)
    tags = np.full(80, FREE)
    tags[:3], tags[20:23] = 0, 1
    labels = cluster_windows(x, 0.35, max_speakers=2, tags=tags)
    assert len(set(labels)) == 2 and labels[0] != labels[20]
    assert len(set(cluster_windows(x, 0.35, min_speakers=4, tags=tags))) == 4


def test_a_window_is_tied_only_to_a_clear_match():
    scores = np.array([[0.62, 0.20], [0.50, 0.46], [0.30, 0.10], [0.05, 0.71]])
    assert tie_windows(scores, 0.45, 0.10).tolist() == [0, FREE, FREE, 1]
    assert tie_windows(np.zeros((3, 0))).tolist() == [FREE] * 3


def test_naming_gives_a_cluster_to_its_owner_and_asks_more_of_someone_not_expected():
    a, b, c = np.eye(3, dtype=np.float32)
    clusters = {"SPEAKER_00": a, "SPEAKER_01": unit(b + 0.9 * c), "SPEAKER_02": unit(c + 0.2 * b)}
    prints = [KnownVoice("Alice", a, "m", "id-a"), KnownVoice("Bruno", b, "m", "id-b"),
              KnownVoice("Chloé", c, "m", "id-c", expected=False)]
    found = {i.label: i for i in name_clusters(clusters, prints, 0.5, 0.9, {"SPEAKER_00": "id-a"})}
    assert (found["SPEAKER_00"].name, found["SPEAKER_00"].speaker_id) == ("Alice", "id-a")
    assert found["SPEAKER_01"].name == "Bruno"  # 0.74 clears the participants' bar
    assert found["SPEAKER_02"].name == "Chloé"  # 0.98 clears the guests' bar of 0.9
    stricter = {i.label: i for i in name_clusters(clusters, prints, 0.5, 0.99)}
    assert stricter["SPEAKER_02"].name is None and stricter["SPEAKER_02"].score == pytest.approx(0.98, abs=0.01)
    # Chloé's 0.67 on SPEAKER_01 would clear a participant's bar, never a guest's
    alone = {i.label: i for i in name_clusters({"SPEAKER_01": clusters["SPEAKER_01"]}, prints[2:], 0.5, 0.9)}
    assert alone["SPEAKER_01"].name is None


def test_a_cluster_under_the_bar_goes_to_a_participant_only_when_it_is_clearly_theirs():
    """Phone-band speech scores every match low: Bruno's cluster scores 0.55 against a bar of 0.6,
    but no other cluster comes near his voiceprint, nor does his cluster come near anyone else's."""
    from hearback.identify import ClearRule

    a, b, c, d = np.eye(4, dtype=np.float32)
    clusters = {"SPEAKER_00": a, "SPEAKER_01": unit(0.55 * b + 0.835 * d), "SPEAKER_02": unit(0.2 * b + c)}
    prints = [KnownVoice("Alice", a, "m", "id-a"), KnownVoice("Bruno", b, "m", "id-b"),
              KnownVoice("Chloé", c, "m", "id-c", expected=False)]
    rule = ClearRule(0.5, 0.25, 0.05)
    plain = {i.label: i.name for i in name_clusters(clusters, prints, 0.6, 0.99)}
    assert plain == {"SPEAKER_00": "Alice", "SPEAKER_01": None, "SPEAKER_02": None}
    clear = {i.label: i for i in name_clusters(clusters, prints, 0.6, 0.99, clear=rule)}
    assert clear["SPEAKER_01"].name == "Bruno" and clear["SPEAKER_01"].score == pytest.approx(0.55, abs=0.01)
    assert clear["SPEAKER_02"].name is None  # Chloé is no participant: the rule never names a guest
    # another cluster close to Bruno too (0.55 and 0.40: a margin of 0.15, not 0.25): no name
    close = dict(clusters, SPEAKER_02=unit(0.4 * b + c))
    assert {i.label: i.name for i in name_clusters(close, prints, 0.6, 0.99, clear=rule)}["SPEAKER_01"] is None
    # under the rule's own score: no name either
    low = dict(clusters, SPEAKER_01=unit(0.45 * b + 0.89 * d))
    assert {i.label: i.name for i in name_clusters(low, prints, 0.6, 0.99, clear=rule)}["SPEAKER_01"] is None


def test_a_participant_no_cluster_was_named_after_is_said_with_their_closest_cluster():
    """Alice is named, Bruno is listed but under the bar, Chloé (enrolled, not listed) takes the
    cluster as a guest: the warning names Bruno alone, with the cluster closest to his voice."""
    a, b, c = np.eye(4, dtype=np.float32)[:3]
    prints = [KnownVoice("Alice", a, "test"), KnownVoice("Bruno", b, "test"), KnownVoice("Chloé", c, "test", expected=False)]
    clusters = {"SPEAKER_00": unit(a + 0.1 * c), "SPEAKER_01": unit(0.3 * b + c)}
    found = name_clusters(clusters, prints, 0.5, 0.6)
    assert {i.label: i.name for i in found} == {"SPEAKER_00": "Alice", "SPEAKER_01": "Chloé"}
    missed = missed_participants(clusters, prints, found)
    assert [(m.name, m.label) for m in missed] == [("Bruno", "SPEAKER_01")]
    assert missed[0].score == pytest.approx(0.3 / np.sqrt(1.09), abs=1e-4)
    notice = participants_notice(missed, 0.5, {"SPEAKER_01": "Chloé"})  # the cluster is shown as Chloé's
    assert notice.code == "participants_not_named"
    assert notice.text.startswith("1 participant(s) not recognised: Bruno (closest: Chloé, score 0.29), a name needs 0.50")
    assert notice.details["participants"] == [{"name": "Bruno", "speaker_id": None, "closest": "SPEAKER_01",
                                               "shown": "Chloé", "score": 0.287, "rival": False}]
    assert participants_notice(missed_participants(clusters, prints[:1], found), 0.5) is None


def test_the_losses_bench_says_where_a_name_was_missed_or_a_stranger_named():
    """bench/identity_losses.py, on turns made by hand: a neighbour's turn reaching into a
    stranger's, a participant's cluster left unnamed, one merged into a stranger's."""
    from bench.identity_losses import enrolled_losses, one_bar, perfect_naming, stranger_names

    truth = [(0.0, 2.0, "alice"), (2.2, 4.0, "stranger"), (4.5, 6.0, "bruno"), (6.5, 7.0, "chloe")]
    turns = [(0.0, 2.5, "S0"), (2.5, 4.0, "S1"), (4.5, 6.0, "S2"), (6.5, 7.0, "S1")]
    enrolled = ["alice", "bruno", "chloe"]
    lost = enrolled_losses(truth, turns, {"S0": "alice"}, enrolled)
    assert lost["named right"] == pytest.approx(2.0, abs=0.06)
    assert lost["own cluster unnamed"] == pytest.approx(1.5, abs=0.06)  # bruno's S2: under the bar
    assert lost["someone else's cluster, unnamed"] == pytest.approx(0.5, abs=0.06)  # chloe inside the stranger's S1
    named = stranger_names(truth, turns, {"S0": "alice"}, enrolled)
    assert named == {"turn start": pytest.approx(0.3)}  # alice's turn runs 0.3 s into the stranger's
    # perfect naming: S2 is bruno's, S1 stays the stranger's, so only chloe's 0.5 s inside it is lost
    perfect = perfect_naming(truth, turns, enrolled)
    assert perfect["named right"] == pytest.approx(3.5, abs=0.06)
    assert perfect["someone else's cluster, unnamed"] == pytest.approx(0.5, abs=0.06)
    # one bar with hindsight: above the best stranger's cluster (0.40), alice's 10 s of 20 s enrolled
    bar, share = one_bar([(10.0, 0.55), (6.0, 0.38), (2.0, 0.40)], [0.40, 0.21], 20.0)
    assert (bar, share) == (0.40, pytest.approx(0.5))


def test_the_enrichment_bench_learns_from_earlier_sessions_only():
    """bench/enrichment_eval.py: a cluster named by hand is one voice's own (97 %) and long enough;
    the enrichment guard keeps a named cluster clearly closer to its voice than to anyone else; a
    session gets voiceprints only from the sessions before it (recorded the same way, when asked)."""
    from types import SimpleNamespace

    from bench.devset import Recording
    from bench.enrichment_eval import enriched, named_by_hand, with_sessions
    from bench.identity_eval import Bars, Meeting

    alice, bruno = np.eye(4)[0], np.eye(4)[1]

    def diarized(name: str, condition: str, turns: list, vectors: dict) -> tuple:
        truth = [(s, e, who) for s, e, who, _ in turns]
        recording = Recording(name, np.zeros(16000, np.float32), truth, condition=condition)
        diarization = SimpleNamespace(turns=[SimpleNamespace(start=s, end=e, speaker=label) for s, e, _, label in turns],
                                      embeddings=vectors, owners={}, speech_time={})
        for s, e, _, label in turns:
            diarization.speech_time[label] = diarization.speech_time.get(label, 0.0) + e - s
        prints = [KnownVoice("alice", alice, "test"), KnownVoice("bruno", bruno, "test")]
        return Meeting(recording, ["alice", "bruno"], ["alice", "bruno"], ["alice", "bruno"]), diarization, prints

    phone = diarized("m1", "phone+mp3", [(0.0, 12.0, "alice", "S0"), (12.0, 20.0, "bruno", "S1")],
                     {"S0": alice, "S1": bruno})
    clean = diarized("m2", "clean", [(0.0, 12.0, "alice", "S0"), (12.0, 15.0, "stranger", "S0")],
                     {"S0": unit(alice + 0.8 * bruno)})
    found = named_by_hand([phone, clean], min_seconds=10.0)
    # alice's pure 12 s in m1 only: bruno's 8 s are too short, m2's cluster is 80 % alice's
    assert list(found) == ["alice"] and [m.recording.name for _, m, _ in found["alice"]] == ["m1"]
    # the guard: m1's alice (score 1.0); m2's cluster is named alice (0.78) but only 0.16 above bruno
    guarded = enriched([phone, clean], "test", Bars(0.42, 0.42, 0.46), "named", margin=0.2, min_seconds=10.0)
    assert list(guarded) == ["alice"] and [n for n, _, _ in guarded["alice"]] == [0]
    assert [n for n, _, _ in enriched([phone, clean], "test", Bars(0.42, 0.42, 0.46), "named", 0.1, 10.0)["alice"]] == [0, 1]
    prints = phone[2]
    later = diarized("m3", "phone+mp3", [(0.0, 5.0, "alice", "S0")], {"S0": alice})[0]
    assert [vp.name for vp in with_sessions(2, later, prints, found, True, None)] == ["alice", "bruno", "alice"]
    assert len(with_sessions(0, phone[0], prints, found, False, None)) == 2  # nothing before the first session
    assert len(with_sessions(2, clean[0], prints, found, True, None)) == 2  # another condition
    twice = {"alice": [(0, phone[0], alice), (1, phone[0], bruno)]}
    assert [vp.vector.tolist() for vp in with_sessions(2, later, prints, twice, False, 1)][2] == bruno.tolist()  # the latest


@pytest.fixture(scope="module")
def enrolled(pipeline):
    """Voiceprints of Kennedy, the reader and Sheila from parts of their recordings the meeting
    does not use."""
    return {name: pipeline.voice_sample(Audio(clip(file, start, end))).vector
            for name, (file, start, end) in ENROL.items()}


@pytest.fixture(scope="module")
def anchored_meeting(pipeline, enrolled):
    samples, truth = meeting()
    prints = [KnownVoice(name, v, pipeline.embedder_name) for name, v in enrolled.items()]
    return pipeline.transcribe_audio(Audio(samples), Options(language="en"), voiceprints=prints), truth


def said_by(transcript, words: str) -> str:
    return next(s.speaker for s in transcript.segments if words in s.text.lower())


@pytest.mark.slow
def test_participants_are_named_and_strangers_stay_unknown(anchored_meeting):
    transcript, truth = anchored_meeting
    assert said_by(transcript, "fellow americans") == "Kennedy"
    assert said_by(transcript, "hereby granted") == "Reader"
    stranger = said_by(transcript, "wizard")
    assert stranger.startswith("SPEAKER_"), transcript.identifications
    named = {i.name for i in transcript.identifications if i.name}
    assert named <= set(ENROL) and {"Kennedy", "Reader"} <= named
    assert all(i.score >= PARTICIPANT_THRESHOLD["campp"] for i in transcript.identifications if i.name)
    assert transcript.quality["diarization"]["anchored_windows"] > 5
    warned = [p["name"] for w in transcript.quality["warnings"] if w["code"] == "participants_not_named"
              for p in w["details"]["participants"]]
    assert set(warned) == set(ENROL) - named  # a participant left out is said, never one named


@pytest.mark.slow
def test_rttm_lists_who_spoke_when_with_names_and_scores_against_the_reference(anchored_meeting, tmp_path):
    transcript, truth = anchored_meeting
    text = render(transcript, "rttm")
    lines = text.splitlines()
    assert lines and all(line.startswith("SPEAKER hearback 1 ") and len(line.split()) == 10 for line in lines)
    path = tmp_path / "meeting.rttm"
    path.write_text(text)
    turns = read_rttm(path)
    assert {"Kennedy", "Reader"} <= {t[2] for t in turns}
    starts = [t[0] for t in turns]
    assert starts == sorted(starts)
    reference = [(s, e, who or f"stranger-{i}") for i, (s, e, who) in enumerate(truth)]
    assert diarization_error_rate(reference, turns) < 0.35


@pytest.mark.slow
def test_an_absent_participant_takes_nobodys_name(pipeline, enrolled):
    """Sheila is expected but never speaks: the recording of two other voices keeps her name out."""
    samples = np.concatenate([clip("jfk.flac", 0.0, 5.5), np.zeros(8000, np.float32), clip("hotwords.mp3", 0.0, 4.0)])
    prints = [KnownVoice("Sheila", enrolled["Sheila"], pipeline.embedder_name),
              KnownVoice("Kennedy", enrolled["Kennedy"], pipeline.embedder_name)]
    transcript = pipeline.transcribe_audio(Audio(samples), Options(language="en"), voiceprints=prints)
    assert "Sheila" not in transcript.speakers
    assert said_by(transcript, "fellow americans") == "Kennedy"
    (warning,) = [w for w in transcript.quality["warnings"] if w["code"] == "participants_not_named"]
    (sheila,) = warning["details"]["participants"]
    assert sheila["name"] == "Sheila" and sheila["closest"] in transcript.speaker_embeddings
    shown = {i.label: i.name or i.label for i in transcript.identifications}
    assert sheila["shown"] == shown[sheila["closest"]]  # the label, or the name it is shown under
    assert sheila["score"] < warning["details"]["threshold"] == PARTICIPANT_THRESHOLD["campp"]
    assert f"Sheila (closest: {sheila['shown']}, score {sheila['score']:.2f})" in warning["text"]


def test_participant_windows_match_their_voice(pipeline, enrolled):
    run, regions = pipeline.speaker_windows(Audio(clip("jfk.flac", 0.0, 5.5)))
    people = [Participant(name, enrolled[name][None]) for name in ENROL]
    scores = participant_scores(run.found.embeddings, people)
    assert scores.shape == (len(run.found), 3)
    assert np.median(scores[:, 0]) > np.median(scores[:, 1:]) + 0.15  # Kennedy's own windows


def test_names_are_compared_with_campps_mean_voice_taken_out(pipeline, enrolled):
    """CAM++ vectors of different voices share a common part (the stored mean of the tuning half's
    windows); names compare what is left, which sets a voice further apart from the others."""
    from hearback.embedders.centre import centre, comparable

    mean = centre(pipeline.embedder_name)
    assert mean.shape == (192,) and 0.3 < float(np.linalg.norm(mean)) < 0.4
    run, _ = pipeline.speaker_windows(Audio(clip("jfk.flac", 0.0, 5.5)))
    kennedy = unit(run.found.embeddings.mean(axis=0))
    found = name_clusters({"SPEAKER_00": kennedy}, [KnownVoice(n, v, pipeline.embedder_name) for n, v in enrolled.items()],
                          0.0, 0.0)
    assert found[0].name == "Kennedy"
    centred = comparable(kennedy, pipeline.embedder_name) @ comparable(enrolled["Kennedy"], pipeline.embedder_name)
    assert found[0].score == pytest.approx(float(centred), abs=1e-5)
    # centring widens the gap between Kennedy's own voice and the others'
    raw = {n: float(kennedy @ unit(v)) for n, v in enrolled.items()}
    named = {n: float(comparable(kennedy, pipeline.embedder_name) @ comparable(v, pipeline.embedder_name))
             for n, v in enrolled.items()}
    assert named["Kennedy"] - max(named["Reader"], named["Sheila"]) > raw["Kennedy"] - max(raw["Reader"], raw["Sheila"])
    assert np.allclose(comparable(enrolled["Kennedy"], "an-embedder-without-a-mean"), unit(enrolled["Kennedy"]))
