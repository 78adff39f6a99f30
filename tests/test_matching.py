"""One identification path, two matchers: FAISS (the service) and in-memory (the CLI) give the
same names and scores, keep workspaces apart, and follow merges and deletions. Real SQLite and
real FAISS; synthetic unit vectors, so the outcome is known."""

from __future__ import annotations

import numpy as np
import pytest

from database.engine import Database
from hearback.errors import InputError
from service.settings import Settings
from sessions import people
from sessions.erasure import erase
from speakers import matching, roster
from speakers.consent import Consent, record_consent
from speakers.enrolment import add_voiceprint
from speakers.identification import Embedder, identify

EMBEDDER = Embedder("test-embedder-8", 8)


@pytest.fixture
def db(tmp_path):
    with Database(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/db.sqlite")).upgrade().open() as db:
        yield db


def voice(seed: int, noise: float = 0.0, base: int | None = None) -> np.ndarray:
    """A voice direction (`base`), heard with some noise."""
    rng = np.random.default_rng(seed)
    direction = np.random.default_rng(base if base is not None else seed).standard_normal(8)
    return (direction + noise * rng.standard_normal(8)).astype(np.float32)


def enrolled(db, workspace: str, name: str, *vectors, consent: bool = True) -> str:
    speaker = roster.add_speaker(db, workspace, name)
    if consent:
        record_consent(db, speaker, Consent(True, "cli", recorded_by="test"), workspace)
    for v in vectors:
        add_voiceprint(db, speaker, v, EMBEDDER.name)
    db.commit()
    return speaker.id


@pytest.mark.parametrize("kind", [matching.MemoryMatcher, matching.FaissMatcher])
def test_both_matchers_name_the_same_clusters(db, kind):
    alice = enrolled(db, "default", "Alice", voice(1), voice(11, 0.3, base=1))
    bob = enrolled(db, "default", "Bob", voice(2))
    enrolled(db, "elsewhere", "Alice's twin", voice(1))  # another workspace is never a candidate
    matcher = kind()
    assert matching.load(db, matcher) == 4
    clusters = {"SPEAKER_00": voice(21, 0.2, base=2), "SPEAKER_01": voice(22, 0.2, base=1),
                "SPEAKER_02": voice(3)}
    found = {i.label: i for i in identify(db, matcher, "default", clusters, EMBEDDER.name, EMBEDDER, 0.8)}
    assert (found["SPEAKER_00"].name, found["SPEAKER_00"].speaker_id) == ("Bob", bob)
    assert (found["SPEAKER_01"].name, found["SPEAKER_01"].speaker_id) == ("Alice", alice)
    assert found["SPEAKER_02"].name is None and found["SPEAKER_02"].speaker_id is None
    assert found["SPEAKER_00"].score > 0.9

    # a merge moves Bob's voiceprint to Alice; a deletion takes Alice's away: the matcher follows
    people.merge_speakers(db, matcher, "default", bob, alice)
    again = identify(db, matcher, "default", {"SPEAKER_00": clusters["SPEAKER_00"]}, EMBEDDER.name, EMBEDDER, 0.8)
    assert again[0].name == "Alice"
    erase(db, matcher, None, "default", alice, "test", forget_name=True)
    gone = identify(db, matcher, "default", clusters, EMBEDDER.name, EMBEDDER, 0.8)
    assert [i.name for i in gone] == [None, None, None] and matcher.count() == 1


def test_the_two_matchers_agree_on_scores(db):
    for n in range(6):
        enrolled(db, "default", f"person {n}", voice(100 + n), voice(200 + n, 0.5, base=100 + n))
    memory, faiss = matching.MemoryMatcher(), matching.FaissMatcher()
    matching.load(db, memory), matching.load(db, faiss)
    clusters = {f"SPEAKER_{k:02d}": voice(300 + k, 0.4, base=100 + k) for k in range(4)}
    a = identify(db, memory, "default", clusters, EMBEDDER.name, EMBEDDER, 0.5)
    b = identify(db, faiss, "default", clusters, EMBEDDER.name, EMBEDDER, 0.5)
    assert [(i.label, i.name) for i in a] == [(i.label, i.name) for i in b]
    assert np.allclose([i.score for i in a], [i.score for i in b], atol=1e-5)
    assert memory.snapshot() == faiss.snapshot()


@pytest.mark.parametrize("kind", [matching.MemoryMatcher, matching.FaissMatcher])
def test_the_same_checks_on_either(db, kind):
    matcher = kind()
    with pytest.raises(InputError, match="cannot be compared"):
        identify(db, matcher, "default", {"A": voice(1)}, "another-embedder", EMBEDDER, 0.8)
    with pytest.raises(InputError, match="has 3 values"):
        identify(db, matcher, "default", {"A": np.ones(3, np.float32)}, EMBEDDER.name, EMBEDDER, 0.8)
    with pytest.raises(InputError, match="non-zero vector"):
        identify(db, matcher, "default", {"A": np.zeros(8, np.float32)}, EMBEDDER.name, EMBEDDER, 0.8)
    assert identify(db, matcher, "default", {}, EMBEDDER.name, EMBEDDER, 0.8) == []


@pytest.mark.parametrize("kind", [matching.MemoryMatcher, matching.FaissMatcher])
def test_a_speaker_without_consent_is_never_matched(db, kind):
    """Voiceprints stored without a consent record (e.g. before migration 0006) are never candidates,
    not even for the assignment of the other clusters; recording the consent makes them count."""
    from speakers.consent import attest

    silent = enrolled(db, "default", "Silent", voice(5), consent=False)
    matcher = kind()
    matching.load(db, matcher)
    cluster = {"SPEAKER_00": voice(25, 0.1, base=5)}
    assert identify(db, matcher, "default", cluster, EMBEDDER.name, EMBEDDER, 0.5)[0].name is None
    attest(db, "default", silent, Consent(True, "attested", recorded_by="test"))
    assert identify(db, matcher, "default", cluster, EMBEDDER.name, EMBEDDER, 0.5)[0].name == "Silent"


def test_enrichment_is_off_unless_asked():
    """An enriched voiceprint lets strangers heard the same way take the name (bench/enrichment_eval.py):
    no voiceprint is added automatically unless HEARBACK_ENRICH=1 (naming a cluster by hand still adds one)."""
    from speakers.enrichment import Guard

    assert Guard.of(Settings.from_env({})) is None
    assert Guard.of(Settings.from_env({"HEARBACK_ENRICH": "1"})).margin == 0.05


def test_enrichment_counts_only_person_provided_voiceprints(db):
    """A cluster close to an enriched voiceprint but not to the enrolled ones is named, never added:
    enrichment cannot walk away from the voice a person vouched for."""
    from speakers.enrichment import Guard, enrich
    from speakers.tables import Speaker, Voiceprint

    anchor = voice(1) / np.linalg.norm(voice(1))
    other = voice(7) - (voice(7) @ anchor) * anchor
    drifted = 0.6 * anchor + 0.8 * other / np.linalg.norm(other)  # cosine 0.6 to the anchor
    alice = enrolled(db, "default", "Alice", anchor)
    add_voiceprint(db, db.get(Speaker, alice), drifted, EMBEDDER.name, origin="enriched")
    db.commit()
    matcher = matching.FaissMatcher()
    matching.load(db, matcher)
    guard = Guard(threshold=0.5, margin=0.15, min_seconds=5.0, cap=3)
    added = []
    for session, vector in (("s1", drifted + 0.05 * voice(8)), ("s2", anchor + 0.1 * voice(9))):
        found = {i.label: i for i in identify(db, matcher, "default", {"SPEAKER_00": vector}, EMBEDDER.name,
                                              EMBEDDER, 0.5)}
        assert found["SPEAKER_00"].name == "Alice" and found["SPEAKER_00"].score > 0.9  # s1: thanks to the enriched one
        changes = enrich(db, matcher, "default", session, EMBEDDER.name, {"SPEAKER_00": vector},
                         {"SPEAKER_00": 30.0}, found, guard)
        db.commit()
        changes.apply(matcher, "default")
        added += [v.source for v in changes.added]
    assert added == ["session s2 SPEAKER_00 (enriched)"]
    assert db.query(Voiceprint).filter_by(speaker_id=alice, origin="enriched").count() == 2


@pytest.mark.parametrize("kind", [matching.MemoryMatcher, matching.FaissMatcher])
def test_both_matchers_score_on_the_centred_scale_the_pipeline_names_with(db, kind):
    """CAM++'s mean is taken out of stored voiceprints and queries alike, so a cluster scores what
    `hearback.identify.name_clusters` would give it; the vectors stay stored raw."""
    from hearback.embedders.centre import centre, comparable
    from hearback.identify import KnownVoice, name_clusters
    from speakers.tables import Voiceprint

    campp = Embedder("campp-3dspeaker-zh-en-192", 192)
    mean = centre(campp.name)
    rng = np.random.default_rng(5)
    alice_voice = mean + 0.05 * rng.standard_normal(192).astype(np.float32)  # voices share the mean
    heard = alice_voice + 0.05 * rng.standard_normal(192).astype(np.float32)
    speaker = roster.add_speaker(db, "default", "Alice")
    record_consent(db, speaker, Consent(True, "cli", recorded_by="test"), "default")
    add_voiceprint(db, speaker, alice_voice, campp.name)
    db.commit()
    matcher = kind()
    matching.load(db, matcher)
    (found,) = identify(db, matcher, "default", {"SPEAKER_00": heard}, campp.name, campp, 0.0)
    expected = float(comparable(heard, campp.name) @ comparable(alice_voice, campp.name))
    raw = float(heard @ alice_voice / np.linalg.norm(heard) / np.linalg.norm(alice_voice))
    assert found.name == "Alice" and found.score == pytest.approx(expected, abs=1e-5) and abs(expected - raw) > 0.005
    (pipeline,) = name_clusters({"SPEAKER_00": heard}, [KnownVoice("Alice", alice_voice, campp.name)], 0.0, 0.0)
    assert pipeline.score == pytest.approx(expected, abs=1e-5)
    stored = db.query(Voiceprint).one().array
    assert np.allclose(stored, alice_voice / np.linalg.norm(alice_voice), atol=1e-6)
