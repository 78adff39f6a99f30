"""Whisper decoding with a language per chunk, on faster-whisper's model.

faster-whisper's `BatchedInferencePipeline` decodes a batch of chunks in one language, named
once for the recording. This decoder does the same steps (features, encoder, generate, timestamps,
words) but lets each chunk of a batch have its own language, chosen from the encoder output the
chunk is decoded from: identifying the language costs one decoder step, not another encoder pass.
It uses faster-whisper's own building blocks (pinned at 1.2.1; `tests/test_asr_contract.py` checks
their signatures so that an upgrade that changes them fails in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Sequence

import numpy as np

from hearback.asr.chunks import Chunk
from hearback.asr.language import Detection
from hearback.result import Segment, Word

PREPEND_PUNCTUATION = "\"'“¿([{-"  # faster-whisper's defaults
APPEND_PUNCTUATION = "\"'.。,，!！?？:：”)]}、"
FALLBACK_TEMPERATURES = (0.2, 0.4, 0.6)  # sampling, when greedy/beam decoding gave nothing


@dataclass
class Encoded:
    """Chunks of audio through the encoder, with what Whisper thinks their language is."""

    chunks: list[Chunk]  # in seconds of the samples given
    output: object  # ctranslate2.StorageView, one row per chunk
    detections: list[Detection]


class WhisperDecoder:
    def __init__(self, model, beam_size: int = 5):
        """`model`: a `faster_whisper.WhisperModel` (WhisperX's model is one too)."""
        self.model = model
        self.beam_size = beam_size
        self.multilingual = bool(model.model.is_multilingual)
        self._tokenizers: dict[str, object] = {}

    def encode(self, samples: np.ndarray, chunks: Sequence[Chunk]) -> Encoded:
        """Encode `chunks` of `samples` (each padded to Whisper's 30 s window) and detect their language."""
        from faster_whisper.audio import pad_or_trim

        features = [self.model.feature_extractor(c.audio(samples))[..., :-1] for c in chunks]
        output = self.model.encode(np.stack([pad_or_trim(f) for f in features]))
        if self.multilingual:
            detections = [Detection.from_whisper(d) for d in self.model.model.detect_language(output)]
        else:
            detections = [Detection((("en", 1.0),)) for _ in chunks]
        return Encoded(list(chunks), output, detections)

    def decode(self, encoded: Encoded, rows: Sequence[int], language: str | Sequence[str], temperature: float = 0.0,
               **options) -> list[Segment]:
        """Decode the `rows` of `encoded`, in `language` (one for all, or one per row: rows of
        several languages decode in one batch, which costs less than a batch per language);
        segment times are in seconds of the samples."""
        if not rows:
            return []
        languages = per_row(language, len(rows))
        batch = gather([(encoded, i) for i in rows])
        prompts = [list(self.model.get_prompt(self._tokenizer(lang), previous_tokens=[], without_timestamps=True))
                   for lang in languages]
        sampling = {"beam_size": 1, "sampling_topk": 0} if temperature > 0 else {"beam_size": self.beam_size}
        results = self.model.model.generate(
            batch.output, prompts, patience=1, length_penalty=1, max_length=self.model.max_length,
            suppress_blank=True, suppress_tokens=_suppressed(self._tokenizer(languages[0])), return_scores=True,
            return_no_speech_prob=True, sampling_temperature=temperature, **sampling, **options)
        out: list[Segment] = []
        for lang in dict.fromkeys(languages):
            # word times are aligned a language at a time: the alignment takes one prompt for its batch
            mine = [k for k, row_language in enumerate(languages) if row_language == lang]
            out += self._words(batch if len(mine) == len(rows) else gather([(batch, k) for k in mine]),
                               [results[k] for k in mine], lang)
        return out

    def _words(self, encoded: Encoded, results: Sequence, language: str) -> list[Segment]:
        """Segments with word times of decoded rows of one language."""
        tokenizer = self._tokenizer(language)
        pieces, sizes = [], []
        for chunk, result in zip(encoded.chunks, results):
            # times in the chunk's own audio, taken back to the recording's below
            duration = chunk.seconds
            size = int(ceil(duration) * self.model.frames_per_second)
            subsegments, _, _ = self.model._split_segments_by_timestamps(
                tokenizer=tokenizer, tokens=result.sequences_ids[0], time_offset=0.0,
                segment_size=size, segment_duration=duration, seek=0)
            piece = [{"tokens": s["tokens"], "start": s["start"], "end": s["end"], "seek": 0,
                      "text": tokenizer.decode(s["tokens"])} for s in subsegments]
            # an empty chunk still needs a row: the alignment is computed for the whole batch
            pieces.append(piece or [{"tokens": [], "start": 0.0, "end": 0.0, "seek": 0, "text": ""}])
            sizes.append(size)
        self.model.add_word_timestamps(pieces, tokenizer, encoded.output, sizes, PREPEND_PUNCTUATION,
                                       APPEND_PUNCTUATION, 0.0)
        return [out for chunk, piece in zip(encoded.chunks, pieces) for s in piece if s["text"].strip()
                for out in chunk.segments_in_recording(_segment(s, language))]

    def decode_hard(self, encoded: Encoded, languages: Sequence[str]) -> list[Segment]:
        """One encoded region that got no words: each language in turn, greedy then sampled at
        rising temperatures, until some words come out."""
        for language in dict.fromkeys(languages):
            for temperature in (0.0, *FALLBACK_TEMPERATURES):
                segments = [s for s in self.decode(encoded, [0], language, temperature) if s.words]
                if segments:
                    return segments
        return []

    def _tokenizer(self, language: str):
        from faster_whisper.tokenizer import Tokenizer

        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(self.model.hf_tokenizer, self.multilingual, task="transcribe",
                                                   language=language if self.multilingual else "en")
        return self._tokenizers[language]


def per_row(language: str | Sequence[str], rows: int) -> list[str]:
    """The language of each of `rows` rows: one for all, or one each."""
    return [language] * rows if isinstance(language, str) else list(language)


def gather(rows: Sequence[tuple[Encoded, int]]) -> Encoded:
    """Rows of one or more encoder outputs (CPU or GPU) as one output, to decode them in one batch;
    all the rows of one output, in order, are that output itself."""
    first = rows[0][0]
    if all(e is first for e, _ in rows) and [i for _, i in rows] == list(range(len(first.chunks))):
        return first
    import ctranslate2

    arrays: dict[int, np.ndarray] = {}
    for e, _ in rows:
        if id(e) not in arrays:
            out = e.output
            arrays[id(e)] = np.asarray(out.to_device(ctranslate2.Device.cpu) if out.device != "cpu" else out)
    view = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.stack([arrays[id(e)][i] for e, i in rows])))
    return Encoded([e.chunks[i] for e, i in rows],
                   view if first.output.device == "cpu" else view.to_device(ctranslate2.Device.cuda),
                   [e.detections[i] for e, i in rows])


def _suppressed(tokenizer) -> list[int]:
    from faster_whisper.transcribe import get_suppressed_tokens

    return list(get_suppressed_tokens(tokenizer, [-1]))


def _segment(piece: dict, language: str) -> Segment:
    words = [Word(w["word"], float(w["start"]), float(w["end"]), float(w["probability"]))
             for w in piece.get("words") or []]
    return Segment(float(piece["start"]), float(piece["end"]), piece["text"].strip(), words, None, language)
