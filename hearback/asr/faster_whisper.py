"""The embedded ASR backend: faster-whisper (CTranslate2) on the CPU, offline.

The VAD's speech regions are grouped into chunks of up to 30 s (`chunks.py`) and decoded in
batches, each chunk on its own (no text carried from one chunk to the next: a hallucination in one
chunk cannot loop through the rest of a long recording), each in the language heard in it
(`language.py`). When the diarization says who speaks where, a recording longer than one window
is heard voice by voice: each voice's turns joined into chunks, so that a meeting of short turns
in two languages needs no closer look turn by turn, and the part-filled last chunks of voices of
one language share windows once their first ones have named it. Then the stretches of speech left without
words are decoded again (`coverage.py`: joined voice by voice, then what still has none alone), and
what still has none is reported, never silently dropped.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Callable, Optional

import numpy as np

from hearback.asr.chunks import Chunk, by_voice, joined, packed, stretches, voice_chunks
from hearback.asr.coverage import missed_regions
from hearback.asr.language import (ASKED_STILL_LIKELY, CLEAR_REGION, MIN_REGION_SECONDS, chunk_is_clear,
                                   dominant, region_languages)
from hearback.asr.loops import repair_loops
from hearback.asr.segments import fit_words_to_speech, replace_words, split_sentences, words_inside
from hearback.asr.whisper_decoder import Encoded, WhisperDecoder, gather, per_row
from hearback.errors import ConfigError, InputError
from hearback.models import resolve_whisper_model
from hearback.progress import StepProgress
from hearback.result import AsrResult, Segment, SpeechRegion, Voices
from hearback.settings import Settings

log = logging.getLogger(__name__)
ENCODER_SHARE = 0.25  # of the chunks' time, for the progress bar (measured: 0.37 of 1.75 s on a 30 s clip)
LIKELY = 0.5  # a stretch decoded again is tried first in the language detected with this probability
HEARD_SECONDS = 5.0  # a language heard this long so far in the recording is expected in the rest
DOUBTFUL_PROBABILITY = 0.6  # mean word probability under which a region's language is checked
LOOP_TEMPERATURES = (0.2, 0.4, 0.6)  # a looping segment is decoded again with sampling ...
NO_REPEAT_NGRAM = 3  # ... and a repetition guard
REPETITION_PENALTY = 1.2


class FasterWhisperAsr:
    name = "faster-whisper"

    def __init__(self, settings: Settings, model=None):
        """`model`: an already loaded `faster_whisper.WhisperModel` (the WhisperX backend passes
        its own); loaded from `WHISPER_MODEL` when not given."""
        self.settings = settings
        self.ref = resolve_whisper_model(settings.whisper_model, settings.model_cache_dir)
        started = time.perf_counter()
        self.model = model or _load(self.ref, settings)
        self.decoder = WhisperDecoder(self.model, settings.beam_size)
        self.load_seconds = time.perf_counter() - started
        log.info("loaded Whisper %s from %s in %.1f s (%s, %s)", self.ref.name, self.ref.source,
                 self.load_seconds, settings.device, settings.compute_type)

    def describe(self) -> dict:
        return {"backend": self.name, "name": self.ref.name, "source": self.ref.source,
                "device": self.settings.device, "compute_type": self.settings.compute_type}

    def transcribe(self, samples: np.ndarray, regions: list[SpeechRegion], language: Optional[str],
                   progress: Optional[StepProgress] = None, offset: float = 0.0,
                   heard: Optional[dict[str, float]] = None, voices: Optional[Voices] = None) -> AsrResult:
        local = [r.shifted(-offset) for r in regions]
        expected = frozenset(self.settings.languages) | frozenset(
            lang for lang, seconds in (heard or {}).items() if seconds >= HEARD_SECONDS)
        result = Decoding(self.decoder, samples, language, dominant(heard or {}), expected,
                          self._english_only(language), self.settings.batch_size,
                          [(p.shifted(-offset), v) for p, v in voices or []]).run(local, progress)
        result.segments = [s.shifted(offset) for s in result.segments]
        result.redecoded = [r.shifted(offset) for r in result.redecoded]
        result.untranscribed = [r.shifted(offset) for r in result.untranscribed]
        return result

    def _english_only(self, language: Optional[str]) -> bool:
        if not self.ref.english_only:
            return False
        if language not in (None, "en"):
            raise InputError(f"the model {self.ref.name} is English-only: use language en or auto, "
                             "or set WHISPER_MODEL=base for French", "english_only_model", model=self.ref.name)
        return True


class Decoding:
    """One block of audio through the decoder: languages, words, coverage, loops."""

    def __init__(self, decoder: WhisperDecoder, samples: np.ndarray, asked: Optional[str], usual: Optional[str],
                 expected: frozenset[str], english_only: bool, batch_size: int, voices: Voices = ()):
        """`voices`: pieces of the speech and who speaks in each (a number per voice), when known."""
        self.decoder, self.samples = decoder, samples
        self.voices = list(voices)
        self.asked = "en" if english_only else asked
        self.usual = usual
        self.expected = expected | ({self.asked} if self.asked else set())
        self.batch_size = max(1, batch_size)
        self.seconds: dict[str, float] = {}
        self.foreign: dict[str, float] = {}
        self.judged: list[SpeechRegion] = []  # regions whose language was detected on their own

    def run(self, regions: list[SpeechRegion], progress: Optional[StepProgress]) -> AsrResult:
        chunks = stretches(regions)
        step = (lambda f: progress(0.85 * f)) if progress else None
        if len(chunks) > 1 and len({v for _, v in self.voices}) > 1:
            segments = self._by_voice(regions, step)
        else:
            segments = self._batch(chunks, regions, step)
        repaired = repair_loops(sorted(segments, key=lambda s: s.start), self._redecode_loop)
        segments = self._recheck_doubtful(repaired.segments, regions)
        if progress:
            progress(0.92)
        missed = missed_regions(regions, segments)
        segments = self._decode_missed(missed, segments)
        still = missed_regions(missed, segments)
        for done, region in enumerate(still, 1):
            again = self._decode_alone(region)
            if progress:
                progress(0.92 + 0.07 * done / len(still))
            if len(words_inside(again, region)) > len(words_inside(segments, region)):
                segments = replace_words(segments, region, again)
        # regions decoded again above (another language, or no words) can loop too: the same repair
        final = repair_loops(sorted(segments, key=lambda s: s.start), self._redecode_loop)
        segments = final.segments
        untranscribed = missed_regions(missed, segments)
        if missed:
            log.info("%d speech region(s) had no words; %d still have none after decoding them again",
                     len(missed), len(untranscribed))
        if progress:
            progress(1.0)
        # a chunk's segment starts where the chunk does, not where its first word is: order by words
        shaped = sorted(split_sentences(fit_words_to_speech(segments, regions)), key=lambda s: s.start)
        return AsrResult(shaped, self.seconds, repaired.redecoded + final.redecoded, repaired.dropped + final.dropped,
                         missed, untranscribed,
                         self.foreign)

    def _decode_missed(self, missed: list[SpeechRegion], segments: list[Segment]) -> list[Segment]:
        """The stretches the chunks left without words, joined voice by voice into as few windows
        as they fill (an encoder pass costs the same for 1 s as for 30 s) and decoded in the
        language each window is heard in. What still has no words is then decoded alone."""
        if len(missed) < 2:
            return segments
        voices = [self._voice_of(r) for r in missed]
        chunks = [c for voice in dict.fromkeys(voices)
                  for c in joined([r for r, v in zip(missed, voices) if v == voice])]
        for first in range(0, len(chunks), self.batch_size):
            encoded = self._encode(chunks[first:first + self.batch_size])
            languages = {i: d.language if d.probability >= LIKELY else self.asked or self.usual or d.language
                         for i, d in enumerate(encoded.detections)}
            again = self._decode_pending([(encoded, i, lang) for i, lang in languages.items()])
            for region in (part for chunk in encoded.chunks for part in chunk.parts):
                mine = [s for s in again if s.words and words_inside([s], region)]
                if len(words_inside(mine, region)) > len(words_inside(segments, region)):
                    segments = replace_words(segments, region, mine)
        return segments

    def _voice_of(self, region: SpeechRegion) -> int:
        """Who speaks most of `region` (0 when the voices are not known)."""
        shared = [(min(p.end, region.end) - max(p.start, region.start), v) for p, v in self.voices]
        return max(shared)[1] if shared and max(shared)[0] > 0 else 0

    def _recheck_doubtful(self, segments: list[Segment], regions: list[SpeechRegion]) -> list[Segment]:
        """Regions decoded with unsure words in a chunk judged as a whole may be in another
        language (one French turn among English ones leaves the chunk clearly English): such a
        region gets its own language detection, and is decoded again when it is clearly another."""
        doubtful = [r for r in regions if r.end - r.start >= MIN_REGION_SECONDS and r not in self.judged
                    and _doubtful(words_inside(segments, r))]
        # a batch at a time: all of a long recording's doubtful regions through the encoder at once
        # were the process's peak memory (one 30 s window each)
        for first in range(0, len(doubtful), self.batch_size):
            batch = doubtful[first:first + self.batch_size]
            encoded = self._encode([Chunk.stretch(r) for r in batch])
            for i, (region, detection) in enumerate(zip(batch, encoded.detections)):
                heard = {s.language for s in segments if s.start < region.end and s.end > region.start} - {None}
                if detection.probability < CLEAR_REGION or detection.language in heard:
                    continue
                if self.asked and detection.of(self.asked) >= ASKED_STILL_LIKELY:
                    continue
                log.info("region %.1f-%.1f s sounds %s, not %s: decoded again", region.start, region.end,
                         detection.language, "/".join(sorted(heard)))
                again = self._decode_rows(encoded, [i], detection.language)
                for language in heard:
                    self._count(language, -(region.end - region.start))
                segments = replace_words(segments, region, again)
        return segments

    def _batch(self, chunks: list[Chunk], regions: list[SpeechRegion],
               progress: Optional[StepProgress] = None) -> list[Segment]:
        """Encode the chunks a batch at a time, look closer at those without a clear language, and
        decode the others (`_decode_pending`)."""
        pending, out = self._encode_chunks(chunks, regions, progress)
        return out + self._decode_pending(pending, progress)

    def _by_voice(self, regions: list[SpeechRegion], progress: Optional[StepProgress] = None) -> list[Segment]:
        """A block heard voice by voice (`chunks.by_voice`), in two rounds. First every voice's
        chunks but the last of a voice that has several: they name the voice's language. Then those
        last, part-filled chunks are packed, a language at a time, into shared windows decoded in
        the language of their voices (an encoder pass costs the same for 5 s as for 30 s: the tuning
        meeting's 8 windows became 6); a voice whose language is not known is heard on its own, and
        a packed window that clearly sounds another language is looked at voice by voice."""
        chunks = voice_chunks(*zip(*self.voices))
        last = {voice: i for i, (voice, _) in enumerate(chunks)}
        counts = Counter(voice for voice, _ in chunks)
        held = sorted(last[voice] for voice, n in counts.items() if n > 1)
        first = [(v, c) for i, (v, c) in enumerate(chunks) if i not in held]
        share = len(first) / len(chunks)
        pending, out = self._encode_chunks([c for _, c in first], regions,
                                           (lambda f: progress(share * f)) if progress else None)
        known = _voice_languages(first, pending)
        rest = [chunks[i] for i in held]
        alone = [c for v, c in rest if v not in known]
        shared = [(language, c) for language in dict.fromkeys(known[v] for v, _ in rest if v in known)
                  for c in packed([c for v, c in rest if known.get(v) == language])]
        later = (lambda f: progress(share + (1 - share) * f)) if progress else None
        more, out_more = self._encode_chunks(alone + [c for _, c in shared], regions, later,
                                             [None] * len(alone) + [language for language, _ in shared])
        return out + out_more + self._decode_pending(pending + more, progress)

    def _encode_chunks(self, chunks: list[Chunk], regions: list[SpeechRegion],
                       progress: Optional[StepProgress] = None, languages: Optional[list[Optional[str]]] = None,
                       ) -> tuple[list[tuple[Encoded, int, str]], list[Segment]]:
        """Encode the chunks a batch at a time: (rows to decode, each with its language; the words
        of the chunks without a clear language, looked at closer). `languages`: a chunk's expected
        language, kept unless its window clearly sounds another."""
        pending: list[tuple[Encoded, int, str]] = []
        out: list[Segment] = []
        for first in range(0, len(chunks), self.batch_size):
            batch = chunks[first:first + self.batch_size]
            encoded = self._encode(batch)
            # the encoder takes about a third of the time: say so, or a short file jumps from 0 to 85 %
            if progress:
                progress(ENCODER_SHARE * (first + len(batch)) / len(chunks))
            for i, detection in enumerate(encoded.detections):
                language = chunk_is_clear(detection, self.asked)
                expected = languages[first + i] if languages else None
                if expected:  # kept unless the window clearly sounds another: then a closer look
                    language = expected if language in (None, expected) else None
                if language:
                    pending.append((encoded, i, language))
                else:
                    out += self._unclear(batch[i], regions, encoded, i)
        return pending, out

    def _decode_pending(self, pending: list[tuple[Encoded, int, str]],
                        progress: Optional[StepProgress] = None) -> list[Segment]:
        """Encoded rows decoded a batch at a time, longest first, each in its own language: a
        batch decodes for as long as its longest row takes, so rows of like length go together,
        and one full batch costs less than a part-filled batch per language."""
        rows = sorted(pending, key=lambda r: -r[0].chunks[r[1]].seconds)
        batches = [rows[k:k + self.batch_size] for k in range(0, len(rows), self.batch_size)]
        out: list[Segment] = []
        for done, batch in enumerate(batches, 1):
            encoded = gather([(e, i) for e, i, _ in batch])
            out += self._decode_rows(encoded, list(range(len(batch))), [lang for _, _, lang in batch])
            if progress:
                progress(ENCODER_SHARE + (1 - ENCODER_SHARE) * done / len(batches))
        return out

    def _unclear(self, chunk: Chunk, regions: list[SpeechRegion], encoded: Encoded, row: int) -> list[Segment]:
        """A chunk without a clear language: heard again voice by voice when it holds several
        voices (one encoder pass each, not one per turn), else judged region by region."""
        voices = [(p, v) for p, v in self.voices if _inside(p, chunk)]
        if len({v for _, v in voices}) > 1:
            return self._batch(by_voice(*zip(*voices)), regions)
        if len(chunk.parts) > 1:
            return self._unclear_chunk(list(chunk.parts), encoded, row, joined)
        inside = [r for r in regions if _inside(r, chunk)]
        return self._unclear_chunk(inside or list(chunk.parts), encoded, row, stretches)

    def _unclear_chunk(self, regions: list[SpeechRegion], encoded: Encoded, row: int,
                       rechunk: Callable[[list[SpeechRegion]], list[Chunk]]) -> list[Segment]:
        """Judge the chunk's regions one by one, then decode runs of regions of one language
        (`rechunk` groups a run into chunks as the chunk was made: a stretch or joined pieces)."""
        judged = [i for i, r in enumerate(regions) if r.end - r.start >= MIN_REGION_SECONDS]
        self.judged += [regions[i] for i in judged]
        detections = {}
        own: dict[int, tuple[Encoded, int]] = {}  # a judged region's own window, as the encoder saw it
        if len(regions) > 1 and judged:
            for first in range(0, len(judged), self.batch_size):  # bounded memory, as in _recheck_doubtful
                rows = judged[first:first + self.batch_size]
                alone = self._encode([Chunk.stretch(regions[i]) for i in rows])
                detections.update(zip(rows, alone.detections))
                own.update({i: (alone, k) for k, i in enumerate(rows)})
        elif judged:
            detections = {judged[0]: encoded.detections[row]}
        languages = region_languages(regions, detections, self.asked, self.usual, encoded.detections[row])
        runs: list[tuple[str, list[int]]] = []
        for i, lang in enumerate(languages):
            if runs and runs[-1][0] == lang:
                runs[-1][1].append(i)
            else:
                runs.append((lang, [i]))
        out = []
        for lang, members in runs:
            chunks = rechunk([regions[i] for i in members])
            if len(runs) == 1 and len(chunks) == 1:
                out += self._decode_rows(encoded, [row], lang)
            elif len(members) == 1 and members[0] in own and len(chunks) == 1:
                # one region alone: its window went through the encoder for its language already
                alone, k = own[members[0]]
                out += self._decode_rows(alone, [k], lang)
            else:
                out += self._decode_rows(self._encode(chunks), list(range(len(chunks))), lang)
        return out

    def _decode_rows(self, encoded: Encoded, rows: list[int], language: str | list[str]) -> list[Segment]:
        """Decode `rows` in `language` (one for all, or one per row), counting their speech."""
        segments = self.decoder.decode(encoded, rows, language)
        for i, lang in zip(rows, per_row(language, len(rows))):
            self._count(lang, encoded.chunks[i].speech)
        return segments

    def _encode(self, chunks: list[Chunk]) -> Encoded:
        """Encode, and read each detection among the expected languages (and those heard clearly)."""
        encoded = self.decoder.encode(self.samples, chunks)
        expected = self.expected | {lang for lang, sec in self.seconds.items() if sec >= HEARD_SECONDS}
        encoded.detections = [d.among(frozenset(expected)) for d in encoded.detections]
        return encoded

    def _count(self, language: str, seconds: float) -> None:
        self.seconds[language] = self.seconds.get(language, 0.0) + seconds
        if self.asked and language != self.asked:
            self.foreign[language] = self.foreign.get(language, 0.0) + seconds

    def _decode_alone(self, region: SpeechRegion) -> list[Segment]:
        """A region without words: its own language first, then the others heard, then the usual."""
        encoded = self._encode([Chunk.stretch(region)])
        detected = encoded.detections[0]
        tries = [detected.language] if detected.probability >= LIKELY else []
        tries += [self.asked or self.usual or detected.language, *self.seconds, detected.language]
        segments = self.decoder.decode_hard(encoded, tries)
        if segments and segments[0].language:
            self._count(segments[0].language, region.end - region.start)
        return segments

    def _redecode_loop(self, segment: Segment) -> list[Segment]:
        """Decode one looping stretch again with sampling and a repetition guard."""
        region = SpeechRegion(segment.start, min(segment.end, segment.start + 30.0))
        encoded = self._encode([Chunk.stretch(region)])
        language = segment.language or self.asked or encoded.detections[0].language
        for temperature in LOOP_TEMPERATURES:
            again = self.decoder.decode(encoded, [0], language, temperature, no_repeat_ngram_size=NO_REPEAT_NGRAM,
                                        repetition_penalty=REPETITION_PENALTY)
            if again:
                return again
        return []


def _voice_languages(chunks: list[tuple[int, Chunk]], pending: list[tuple[Encoded, int, str]]) -> dict[int, str]:
    """The language of each voice all of whose `chunks` (voice, chunk) were clearly in that one."""
    clear = {id(encoded.chunks[i]): language for encoded, i, language in pending}
    heard: dict[int, set[Optional[str]]] = {}
    for voice, chunk in chunks:
        heard.setdefault(voice, set()).add(clear.get(id(chunk)))
    return {voice: next(iter(langs)) for voice, langs in heard.items() if len(langs) == 1 and None not in langs}


def _inside(region: SpeechRegion, chunk: Chunk) -> bool:
    return any(region.start >= p.start - 1e-6 and region.end <= p.end + 1e-6 for p in chunk.parts)


def _doubtful(words) -> bool:
    """Words a decoder was unsure of (or none at all: the coverage check handles those)."""
    return bool(words) and float(np.mean([w.probability for w in words])) < DOUBTFUL_PROBABILITY


def _load(ref, settings: Settings):
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(ref.location, device=settings.device, compute_type=settings.compute_type,
                            cpu_threads=settings.cpu_threads, local_files_only=False)
    except Exception as exc:  # faster-whisper raises many kinds; all mean "cannot load"
        raise ConfigError(f"cannot load Whisper model {ref.name!r} ({ref.source}): {exc}") from None
