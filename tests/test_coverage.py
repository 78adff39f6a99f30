"""Every second of speech accounted for, also when Whisper stretches a word over a window."""

from hearback.asr.coverage import missed_regions, speech_covered
from hearback.result import Segment, SpeechRegion, Word


def test_a_word_stretched_over_the_rest_of_its_window_does_not_cover_the_speech_after_it():
    """Seen on the web pages' French meeting (JFK, then Armelle): its one window was decoded in
    French, JFK's sentence came out translated and ended in a "pas..." stretched to the end of the
    window, and Armelle's 20 s, never transcribed, counted as covered."""
    regions = [SpeechRegion(0.3, 2.3), SpeechRegion(3.2, 4.4), SpeechRegion(6.6, 15.2), SpeechRegion(15.9, 27.4)]
    words = [Word(" Et", 0.3, 0.6), Word(" donc", 0.6, 1.0), Word(" mes", 1.0, 1.3), Word(" filles", 1.3, 2.0),
             Word(" n'est", 3.2, 3.6), Word(" pas...", 3.6, 27.1)]
    segments = [Segment(0.3, 27.1, "Et donc mes filles n'est pas...", words, language="fr")]
    missed = missed_regions(regions, segments)
    assert [(round(r.start, 2), round(r.end, 2)) for r in missed] == [(6.6, 15.2), (15.9, 27.4)]
    assert speech_covered(regions, segments) < 0.2
    # words as long as words are: the same speech is covered, pauses inside a sentence too
    said = [Word(f" w{i}", 6.6 + 0.5 * i, 7.0 + 0.5 * i) for i in range(17)] + [Word(" fin", 15.9, 17.8)]
    assert missed_regions(regions[2:3], [Segment(6.6, 15.2, "", said)]) == []
    after_one_word = missed_regions(regions[3:], [Segment(15.9, 17.8, "", said[-1:])])
    assert [(round(r.start, 2), round(r.end, 2)) for r in after_one_word] == [(18.05, 27.4)]
