"""Repetition-loop detection and repair."""

from hearback.asr.loops import collapse_loop, compression_ratio, is_loop, repair_loops
from hearback.result import Segment, Word


def seg(text, start=0.0):
    words = [Word((" " if i else "") + t, start + i * 0.3, start + i * 0.3 + 0.25) for i, t in enumerate(text.split())]
    return Segment(words[0].start, words[-1].end, text, words)


def test_loops_are_detected():
    assert is_loop("merci merci merci merci merci")
    assert is_loop("je pense que je pense que je pense que je pense que oui")
    assert is_loop(" ".join(["Thank you for watching."] * 8))
    assert compression_ratio("la la " * 30) > 2.4


def test_ordinary_speech_is_not_a_loop():
    assert not is_loop("And so my fellow Americans, ask not what your country can do for you, "
                       "ask what you can do for your country.")
    assert not is_loop("non non, je ne crois pas")
    assert not is_loop("Le dragon attaque, le dragon recule, puis le dragon s'envole.")


def test_collapse_keeps_one_copy():
    fixed = collapse_loop(seg("alors on y va on y va on y va on y va maintenant"))
    assert fixed.text == "alors on y va maintenant"
    assert fixed.start == 0.0


def test_repair_prefers_a_clean_redecode_then_collapse_then_drop():
    good = seg("bonjour à tous")
    loop = seg("on y va on y va on y va on y va on y va")
    stutter = seg("merci merci merci merci merci merci")
    wordless = Segment(3.0, 9.0, "la la la la la la la la", [])
    result = repair_loops([good, loop], lambda s: [seg("on y va")])
    assert [s.text for s in result.segments] == ["bonjour à tous", "on y va"] and result.redecoded == 1
    result = repair_loops([loop, stutter, wordless], lambda s: [s])
    assert result.redecoded == 3
    assert [s.text for s in result.segments] == ["on y va", "merci"] and result.dropped == 1


def test_a_word_aligned_over_a_pause_goes_back_to_the_speech_it_was_said_in():
    """Seen on recordings: the next speaker's first word ("permission", 4.33-6.49 s, then 9.39-10.79 s
    with most of it before the pause) ran back over the pause to the previous speaker's last word,
    which gave it to the wrong person. Whisper's word times are contiguous: the word ends where the
    next one starts, and that end is right."""
    from hearback.asr.segments import fit_words_to_speech
    from hearback.result import SpeechRegion

    regions = [SpeechRegion(0.25, 4.4), SpeechRegion(6.34, 20.8)]
    words = [Word(" not", 3.71, 4.33, 0.6), Word(" permission", 4.33, 6.49, 0.1), Word(" is", 6.49, 6.87, 0.9),
             Word(" copies", 7.0, 25.0, 0.5)]
    fitted = fit_words_to_speech([Segment(3.71, 25.0, "not permission is copies", words)], regions)[0].words
    assert [(w.word, w.start, w.end) for w in fitted] == [
        (" not", 3.71, 4.33), (" permission", 6.34, 6.49), (" is", 6.49, 6.87), (" copies", 7.0, 9.0)]
    regions = [SpeechRegion(6.19, 9.75), SpeechRegion(10.58, 25.1)]
    words = [Word(" Chicago", 8.87, 9.39, 0.9), Word(" permission", 9.39, 10.79, 0.3)]
    after = [Word(" is", 10.79, 11.13, 0.9)]  # in the next segment
    fitted = fit_words_to_speech([Segment(8.87, 10.79, "Chicago permission", words),
                                  Segment(10.79, 11.13, "is", after)], regions)
    assert [(w.word, w.start, w.end) for s in fitted for w in s.words][1] == (" permission", 10.58, 10.79)
    assert [s.end for s in fitted] == [10.79, 11.13] and fitted[0].start == 8.87


def test_a_word_that_ran_on_into_a_pause_ends_with_its_speech():
    from hearback.asr.segments import fit_words_to_speech
    from hearback.result import SpeechRegion

    regions = [SpeechRegion(0.25, 4.4), SpeechRegion(6.4, 9.0)]
    last = Word(" end", 4.2, 6.5, 0.5)  # nothing follows it: its tail ran over the pause
    assert fit_words_to_speech([Segment(4.2, 6.5, "end", [last])], regions)[0].words[0].end == 4.4
    words = [Word(" end", 4.2, 6.5, 0.5), Word(" later", 7.5, 8.0, 0.9)]  # the next word starts later
    assert fit_words_to_speech([Segment(4.2, 8.0, "end later", words)], regions)[0].words[0].end == 4.4
