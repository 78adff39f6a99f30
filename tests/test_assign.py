"""Speaker assignment on hand-made turns: largest overlap wins, segments never mix speakers."""

from hearback.assign import assign_speakers
from hearback.result import Segment, Turn, Word


def segment(*words):
    ws = [Word(w, s, e) for w, s, e in words]
    return Segment(ws[0].start, ws[-1].end, "".join(w.word for w in ws).strip(), ws)


def test_segment_is_split_where_the_speaker_changes():
    s = segment(("Bonjour", 0.0, 0.4), (" Pierre.", 0.5, 1.0), (" Salut", 1.6, 2.0), (" Marie.", 2.1, 2.6))
    turns = [Turn(0.0, 1.2, "SPEAKER_00"), Turn(1.3, 3.0, "SPEAKER_01")]
    out = assign_speakers([s], turns)
    assert [(x.text, x.speaker) for x in out] == [("Bonjour Pierre.", "SPEAKER_00"), ("Salut Marie.", "SPEAKER_01")]
    assert out[1].start == 1.6 and out[1].words[0].speaker == "SPEAKER_01"


def test_largest_overlap_wins_and_gaps_take_the_nearest_turn():
    s = segment(("un", 0.9, 1.5), ("deux", 5.0, 5.3))
    turns = [Turn(0.0, 1.0, "A"), Turn(1.0, 2.0, "B"), Turn(5.6, 7.0, "C")]
    out = assign_speakers([s], turns)
    assert [w.speaker for x in out for w in x.words] == ["B", "C"]


def test_a_lone_short_word_keeps_its_neighbours_speaker():
    s = segment(("oui", 0.0, 0.3), ("mais", 0.4, 0.6), ("non", 0.7, 1.0))
    turns = [Turn(0.0, 0.35, "A"), Turn(0.35, 0.65, "B"), Turn(0.65, 1.2, "A")]
    out = assign_speakers([s], turns)
    assert len(out) == 1 and out[0].speaker == "A"


def test_no_turns_leaves_segments_alone():
    s = segment(("hello", 0.0, 0.5))
    assert assign_speakers([s], []) == [s]
