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
