"""The embedded ASR backend: faster-whisper (CTranslate2) on the CPU, offline.

The VAD's speech regions are grouped into chunks of up to 30 s and decoded in batches, each chunk
on its own (no text carried from one chunk to the next: a hallucination in one chunk cannot loop
through the rest of a long recording), each in the language heard in it (`language.py`). Then
every speech region without words is decoded again on its own (`coverage.py`), and what still has
none is reported, never silently dropped.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Optional

import numpy as np

from hearback.asr.coverage import missed_regions
from hearback.asr.language import (ASKED_STILL_LIKELY, CLEAR_REGION, MIN_REGION_SECONDS, chunk_is_clear,
                                   dominant, region_languages)
from hearback.asr.loops import repair_loops
from hearback.asr.segments import asr_chunks, fit_words_to_speech, replace_words, split_sentences, words_inside
from hearback.asr.whisper_decoder import Encoded, WhisperDecoder
from hearback.errors import ConfigError, InputError
from hearback.models import resolve_whisper_model
from hearback.progress import StepProgress
from hearback.result import AsrResult, Segment, SpeechRegion
from hearback.settings import Settings

log = logging.getLogger(__name__)
ENCODER_SHARE = 0.25  # of a batch's decoding time, for the progress bar (measured: 0.37 of 1.75 s on a 30 s clip)
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
                   heard: Optional[dict[str, float]] = None) -> AsrResult:
        local = [r.shifted(-offset) for r in regions]
        expected = frozenset(self.settings.languages) | frozenset(
            lang for lang, seconds in (heard or {}).items() if seconds >= HEARD_SECONDS)
        result = Decoding(self.decoder, samples, language, dominant(heard or {}), expected,
                          self._english_only(language), self.settings.batch_size).run(local, progress)
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
                 expected: frozenset[str], english_only: bool, batch_size: int):
        self.decoder, self.samples = decoder, samples
        self.asked = "en" if english_only else asked
        self.usual = usual
        self.expected = expected | ({self.asked} if self.asked else set())
        self.batch_size = max(1, batch_size)
        self.seconds: dict[str, float] = {}
        self.foreign: dict[str, float] = {}
        self.judged: list[SpeechRegion] = []  # regions whose language was detected on their own

    def run(self, regions: list[SpeechRegion], progress: Optional[StepProgress]) -> AsrResult:
        chunks = asr_chunks(regions)
        segments: list[Segment] = []
        total = max(len(chunks), 1)
        for first in range(0, len(chunks), self.batch_size):
            batch = chunks[first:first + self.batch_size]
            # the encoder takes about a third of a batch's time: say so, or a short file jumps from 0 to 85 %
            encoded = (lambda done=first, size=len(batch): progress(0.85 * (done + ENCODER_SHARE * size) / total)) \
                if progress else None
            segments += self._batch(batch, regions, encoded)
            if progress:
                progress(0.85 * min(1.0, (first + len(batch)) / total))
        repaired = repair_loops(sorted(segments, key=lambda s: s.start), self._redecode_loop)
        segments = self._recheck_doubtful(repaired.segments, regions)
        if progress:
            progress(0.92)
        missed = missed_regions(regions, segments)
        for done, region in enumerate(missed, 1):
            again = self._decode_alone(region)
            if progress:
                progress(0.92 + 0.07 * done / len(missed))
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
            encoded = self._encode(batch)
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

    def _batch(self, chunks: list[SpeechRegion], regions: list[SpeechRegion],
               encoded_hook: Optional[Callable[[], None]] = None) -> list[Segment]:
        encoded = self._encode(chunks)
        if encoded_hook:
            encoded_hook()
        clear = [chunk_is_clear(d, self.asked) for d in encoded.detections]
        out = self._decode_by_language(encoded, {i: lang for i, lang in enumerate(clear) if lang})
        for i, lang in enumerate(clear):
            if lang is None:
                inside = [r for r in regions if r.start >= chunks[i].start - 1e-6 and r.end <= chunks[i].end + 1e-6]
                out += self._unclear_chunk(inside or [chunks[i]], encoded, i)
        return out

    def _unclear_chunk(self, regions: list[SpeechRegion], encoded: Encoded, row: int) -> list[Segment]:
        """Judge the chunk's regions one by one, then decode runs of regions of one language."""
        judged = [i for i, r in enumerate(regions) if r.end - r.start >= MIN_REGION_SECONDS]
        self.judged += [regions[i] for i in judged]
        detections = {}
        own: dict[int, tuple[Encoded, int]] = {}  # a judged region's own window, as the encoder saw it
        if len(regions) > 1 and judged:
            for first in range(0, len(judged), self.batch_size):  # bounded memory, as in _recheck_doubtful
                rows = judged[first:first + self.batch_size]
                alone = self._encode([regions[i] for i in rows])
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
            chunks = asr_chunks([regions[i] for i in members])
            if len(runs) == 1 and len(chunks) == 1:
                out += self._decode_rows(encoded, [row], lang)
            elif len(members) == 1 and members[0] in own and len(chunks) == 1:
                # one region alone: its window went through the encoder for its language already
                alone, k = own[members[0]]
                out += self._decode_rows(alone, [k], lang)
            else:
                out += self._decode_rows(self._encode(chunks), list(range(len(chunks))), lang)
        return out

    def _decode_by_language(self, encoded: Encoded, languages: dict[int, str]) -> list[Segment]:
        out = []
        for lang in dict.fromkeys(languages.values()):
            out += self._decode_rows(encoded, [i for i, la in languages.items() if la == lang], lang)
        return out

    def _decode_rows(self, encoded: Encoded, rows: list[int], language: str) -> list[Segment]:
        segments = self.decoder.decode(encoded, rows, language)
        spoken = sum(encoded.chunks[i].end - encoded.chunks[i].start for i in rows)
        self._count(language, spoken)
        return segments

    def _encode(self, chunks: list[SpeechRegion]) -> Encoded:
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
        encoded = self._encode([region])
        detected = encoded.detections[0]
        tries = [detected.language] if detected.probability >= 0.5 else []
        tries += [self.asked or self.usual or detected.language, *self.seconds, detected.language]
        segments = self.decoder.decode_hard(encoded, tries)
        if segments and segments[0].language:
            self._count(segments[0].language, region.end - region.start)
        return segments

    def _redecode_loop(self, segment: Segment) -> list[Segment]:
        """Decode one looping stretch again with sampling and a repetition guard."""
        region = SpeechRegion(segment.start, min(segment.end, segment.start + 30.0))
        encoded = self._encode([region])
        language = segment.language or self.asked or encoded.detections[0].language
        for temperature in LOOP_TEMPERATURES:
            again = self.decoder.decode(encoded, [0], language, temperature, no_repeat_ngram_size=NO_REPEAT_NGRAM,
                                        repetition_penalty=REPETITION_PENALTY)
            if again:
                return again
        return []


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
