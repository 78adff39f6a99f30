"""The pipeline: decode → speech → ASR → diarize → assign → (identify) → transcript.

A `Pipeline` loads its models once (the RunPod worker and the service keep one for their lifetime)
and runs any number of recordings. It knows nothing of HTTP, SQL or RunPod: callers pass a local
file or decoded audio, options, and an optional `Progress` callback.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from hearback.asr import AsrBackend, check_language, load_asr
from hearback.asr.coverage import speech_covered
from hearback.asr.language import dominant, shares
from hearback.assign import assign_speakers
from hearback.decode import MIN_DURATION, SAMPLE_RATE, Audio, declared_duration, iter_blocks
from hearback.diarize import DiarizationRun, Diarizer, load_diarizer
from hearback.diarize.cluster import MAX_SPEAKERS
from hearback.diarize.voice import VoiceSample, embed_voice
from hearback.embedders import clear_participant, guest_threshold, identify_threshold, participant_threshold
from hearback.errors import InputError
from hearback.identify import (ClearRule, KnownVoice, apply_names, check_voiceprints, missed_participants, name_clusters,
                               participants, shown_names)
from hearback.progress import Progress, Stage, forward_only, within
from hearback.quality import notice_dict, warnings, with_missed
from hearback.result import Diarization, Segment, SpeechRegion, Transcript, Voices
from hearback.segmentation import Activity
from hearback.settings import Settings
from hearback.vad import speech_regions, speech_seconds

log = logging.getLogger(__name__)

CARRY_MARGIN = 2.0  # a region ending this close to a block's end may go on in the next block
TRANSCRIBED = 0.95  # share of the progress bar for the blocks (speech, speaker windows, ASR) ...
# ... and, inside one block, where each step ends and what it is called on a progress bar: a
# block's speaker windows come before its ASR (which hears the block voice by voice), all of it
# reading the recording; "who speaks" is the clustering of the whole recording, at the end
BLOCK_STEPS = {"speech": 0.04, "windows": 0.2, "asr": 1.0}


@dataclass
class Options:
    language: Optional[str] = "auto"
    min_speakers: Optional[int] = None
    max_speakers: Optional[int] = None
    diarize: bool = True

    def checked(self) -> "Options":
        for name in ("min_speakers", "max_speakers"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and 1 <= value <= MAX_SPEAKERS):
                raise InputError(f"{name} must be a whole number from 1 to {MAX_SPEAKERS}, not {value!r}",
                                 "bad_speaker_count", name=name)
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise InputError(f"min_speakers ({self.min_speakers}) is greater than max_speakers ({self.max_speakers})",
                             "bad_speaker_count", name="min_speakers")
        check_language(self.language)
        return self


class Pipeline:
    def __init__(self, settings: Settings, asr: Optional[AsrBackend] = None, diarizer: Optional[Diarizer] = None,
                 segmentation=None):
        self.settings = settings
        self._asr = asr
        self._diarizer = diarizer
        self._segmentation = segmentation
        self.load_count = 0
        self.load_seconds = 0.0

    def load(self) -> "Pipeline":
        """Load every model now (a worker does this before its first job)."""
        _ = self.asr, self.diarizer, self.segmentation
        return self

    @property
    def asr(self) -> AsrBackend:
        if self._asr is None:
            self._asr = self._timed_load(lambda: load_asr(self.settings))
        return self._asr

    @property
    def diarizer(self) -> Diarizer:
        if self._diarizer is None:
            self._diarizer = self._timed_load(lambda: load_diarizer(self.settings))
        return self._diarizer

    @property
    def segmentation(self):
        """segmentation-3.0 beside the VAD, or None when `HEARBACK_SEGMENTATION` is off."""
        if self._segmentation is None and self.settings.segmentation:
            from hearback.segmentation import Segmentation

            self._segmentation = self._timed_load(
                lambda: Segmentation(self.settings.device, bundled_dir=self.settings.bundled_models_dir))
        return self._segmentation

    @property
    def embedder_name(self) -> str:
        return self.diarizer.embedder.name

    @property
    def embedding_dim(self) -> int:
        return self.diarizer.embedder.dim

    @property
    def identify_threshold(self) -> float:
        return identify_threshold(self.settings)

    def bars(self, with_participants: bool, threshold: Optional[float] = None) -> tuple[float, float]:
        """The scores a name needs: (a participant's, anyone else's) when participants are given,
        (anyone's, anyone's) when not. `threshold` replaces the first."""
        if not with_participants:
            bar = self.identify_threshold if threshold is None else threshold
            return bar, bar
        bar = participant_threshold(self.settings) if threshold is None else threshold
        return bar, max(bar, guest_threshold(self.settings))

    def clear_rule(self) -> Optional[ClearRule]:
        """With participants: when a cluster under the bar is still clearly a participant's."""
        rule = clear_participant(self.settings)
        return ClearRule(*rule) if rule else None

    def describe(self) -> dict:
        out = {"asr": self.asr.describe(), "diarization": self.diarizer.describe()}
        if self.segmentation is not None:
            out["segmentation"] = {"name": self.segmentation.name, "source": self.segmentation.source}
        return out

    def transcribe_file(self, path: str | Path, options: Options = Options(), progress: Optional[Progress] = None,
                        voiceprints: Optional[list[KnownVoice]] = None, threshold: Optional[float] = None) -> Transcript:
        """Transcribe a file block by block: memory stays flat however long the recording is."""
        run = self._run(options, progress, voiceprints, declared_duration(path), Path(path))
        buffer, offset, total = np.zeros(0, np.float32), 0.0, 0
        blocks = iter_blocks(path, max_duration=self.settings.max_duration, block_seconds=self.settings.block_seconds)
        while True:
            started = time.perf_counter()
            block = next(blocks, None)
            run.timings["decode"] = run.timings.get("decode", 0.0) + time.perf_counter() - started
            final = block is None
            if block is not None:
                total += len(block)
                buffer = np.concatenate([buffer, block])
            if final or len(buffer) >= self.settings.block_seconds * SAMPLE_RATE:
                carry = run.feed(buffer, offset, final)
                keep = int(round((carry - offset) * SAMPLE_RATE))
                buffer, offset = buffer[keep:], offset + keep / SAMPLE_RATE
            if final:
                break
        if total / SAMPLE_RATE < MIN_DURATION:
            raise InputError(f"audio is {total / SAMPLE_RATE:.2f} s long; at least {MIN_DURATION:g} s is needed "
                             "for a transcript", "audio_too_short", seconds=total / SAMPLE_RATE, needed=MIN_DURATION)
        return run.finish(total / SAMPLE_RATE, threshold)

    def transcribe_audio(self, audio: Audio, options: Options = Options(), progress: Optional[Progress] = None,
                         voiceprints: Optional[list[KnownVoice]] = None, threshold: Optional[float] = None) -> Transcript:
        """Transcribe decoded audio held in memory."""
        run = self._run(options, progress, voiceprints, audio.duration, audio.samples)
        run.feed(audio.samples, 0.0, final=True)
        return run.finish(audio.duration, threshold)

    def diarize(self, audio: Audio, min_speakers: Optional[int] = None, max_speakers: Optional[int] = None,
                voiceprints: Optional[list[KnownVoice]] = None) -> Diarization:
        """Who speaks when in decoded audio, without the ASR (benchmarks, enrolment checks);
        the expected `voiceprints` anchor it as they do a transcription."""
        run, regions = self.speaker_windows(audio)
        return run.finish(regions, min_speakers, max_speakers, participants=participants(voiceprints))

    def speaker_windows(self, audio: Audio) -> tuple[DiarizationRun, list[SpeechRegion]]:
        """The diarization of decoded audio fed with all of it, not yet finished, and its speech
        regions (a benchmark finishes one run several ways)."""
        regions, activity = self._speech(audio.samples, 0.0)
        run = self.diarizer.begin(audio.samples)
        run.feed(audio.samples, regions, 0.0, activity)
        return run, regions

    def voice_sample(self, audio: Audio) -> VoiceSample:
        """A voiceprint from a sample of one person, with how much speech it held and how many voices."""
        return embed_voice(self.diarizer.embedder, audio.samples, self._speech(audio.samples, 0.0)[0])

    def embed_voice(self, audio: Audio) -> tuple[np.ndarray, float, int]:
        """(vector, seconds of speech, voices heard): `voice_sample` as a tuple."""
        sample = self.voice_sample(audio)
        return sample.vector, sample.speech_seconds, sample.voices

    def _speech(self, samples: np.ndarray, offset: float) -> tuple[list[SpeechRegion], Optional[Activity]]:
        """Speech regions (VAD, joined with segmentation-3.0's speech) and what segmentation heard."""
        activity = self.segmentation.activity(samples, offset) if self.segmentation is not None else None
        return speech_regions(samples, offset, activity), activity

    def _run(self, options: Options, progress: Optional[Progress], voiceprints, duration, source) -> "_Run":
        options.checked()
        if voiceprints:
            check_voiceprints(voiceprints, self.embedder_name, self.embedding_dim)
        return _Run(self, options, progress, voiceprints, duration, source)

    def _timed_load(self, load):
        started = time.perf_counter()
        value = load()
        self.load_seconds += time.perf_counter() - started
        self.load_count += 1
        return value


class _Run:
    """One recording going through the pipeline, fed in blocks of audio.

    `feed` finds the speech of a block, transcribes and embeds the regions that are complete, and
    says from where the audio must be kept (a region still open at the block's end is carried
    into the next block). `finish` clusters the speakers of the whole recording, assigns them to
    the words and builds the transcript. Only words, embeddings and counts accumulate, not audio.
    """

    def __init__(self, pipeline: Pipeline, options: Options, progress: Optional[Progress], voiceprints,
                 duration: Optional[float], source):
        self.pipeline, self.options, self.voiceprints = pipeline, options, voiceprints
        self.progress = forward_only(progress)
        self.duration = duration or 0.0
        self.asked = check_language(options.language)
        self.regions: list[SpeechRegion] = []
        self.segments: list[Segment] = []
        self.language_seconds: dict[str, float] = {}
        self.foreign: dict[str, float] = {}
        self.untranscribed: list[SpeechRegion] = []
        self.regions_redecoded = self.repaired = self.dropped = 0
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()
        self.diarization: Optional[DiarizationRun] = pipeline.diarizer.begin(source) if options.diarize else None

    def feed(self, samples: np.ndarray, offset: float, final: bool) -> float:
        end = offset + len(samples) / SAMPLE_RATE
        share = _Share(self.progress, offset, end, self.duration)
        with _timed(self.timings, "vad"):
            regions, activity = self.pipeline._speech(samples, offset)
        share("speech", 1.0)
        if final:
            done, carry = regions, end
        else:
            cut = end - CARRY_MARGIN
            done = [r for r in regions if r.end < cut]
            still_open = [r for r in regions if r.end >= cut]
            carry = max(still_open[0].start - 0.3, done[-1].end if done else offset) if still_open else cut
            carry = max(carry, offset)
        share.end = carry
        if done:
            voices = None
            if self.diarization is not None:
                with _timed(self.timings, "diarize"):
                    self.diarization.feed(samples, done, offset, activity, lambda f: share("windows", f))
                    voices = self.diarization.voices()
            self._transcribe(samples, offset, done, share, voices)
        self.regions += done
        share("asr", 1.0)
        return carry

    def _transcribe(self, samples: np.ndarray, offset: float, regions: list[SpeechRegion], share: "_Share",
                    voices: Optional[Voices]) -> None:
        with _timed(self.timings, "asr"):
            result = self.pipeline.asr.transcribe(samples, regions, self.asked, lambda f: share("asr", f),
                                                  offset=offset, heard=dict(self.language_seconds), voices=voices)
        self.segments += result.segments
        for table, more in ((self.language_seconds, result.language_seconds), (self.foreign, result.foreign_seconds)):
            for language, seconds in more.items():
                table[language] = table.get(language, 0.0) + seconds
        self.untranscribed += result.untranscribed
        self.regions_redecoded += len(result.redecoded)
        self.repaired += result.repaired
        self.dropped += result.dropped

    def finish(self, duration: float, threshold: Optional[float]) -> Transcript:
        segments = self.segments
        diarization = Diarization([], {}, self.pipeline.embedder_name)
        if self.diarization is not None and segments:
            with _timed(self.timings, "diarize"):
                self._report(Stage.DIARIZING, TRANSCRIBED)
                diarization = self.diarization.finish(self.regions, self.options.min_speakers,
                                                      self.options.max_speakers,
                                                      participants=participants(self.voiceprints))
            with _timed(self.timings, "assign"):
                self._report(Stage.ASSIGNING, TRANSCRIBED + 0.03)
                segments = assign_speakers(segments, diarization.turns)
        used = {s.speaker for s in segments if s.speaker}
        transcript = Transcript(
            segments=segments,
            language=self.asked or dominant(self.language_seconds) or "en",
            languages=shares(self.language_seconds),
            duration=duration,
            speakers=sorted(used),
            speaker_embeddings={k: v for k, v in diarization.embeddings.items() if k in used},
            embedder=diarization.embedder,
            model=self.pipeline.describe(),
            quality=self._quality(diarization, used),
            turns=diarization.turns,
        )
        if self.voiceprints is not None and transcript.speaker_embeddings:
            with _timed(self.timings, "identify"):
                self._report(Stage.IDENTIFYING, TRANSCRIBED + 0.04)
                expected = any(vp.expected for vp in self.voiceprints)
                bar, stricter = self.pipeline.bars(expected, threshold)
                clear = self.pipeline.clear_rule() if expected and threshold is None else None
                apply_names(transcript, name_clusters(transcript.speaker_embeddings, self.voiceprints, bar,
                                                      stricter, diarization.owners, clear))
                missed = missed_participants(transcript.speaker_embeddings, self.voiceprints,
                                             transcript.identifications)
                transcript.quality["warnings"] = with_missed(transcript.quality["warnings"], missed, bar,
                                                             shown_names(transcript))
        self._report(Stage.DONE, 1.0)
        transcript.timings = self.timings
        transcript.processing_time = time.perf_counter() - self.started
        log.info("%.1f s of speech in %.1f s of audio, %d segment(s), %d speaker(s)",
                 speech_seconds(self.regions), duration, len(segments), len(used))
        return transcript

    def _quality(self, diarization: Diarization, used: set) -> dict:
        speech = speech_seconds(self.regions)
        notices = warnings(speech, self.untranscribed, self.language_seconds, self.asked, self.foreign)
        return {
            "speech_seconds": round(speech, 2),
            "speech_covered": round(speech_covered(self.regions, self.segments), 3),
            "untranscribed": [{"start": round(r.start, 2), "end": round(r.end, 2)} for r in self.untranscribed],
            "regions_redecoded": self.regions_redecoded,
            "segments_redecoded": self.repaired,
            "segments_dropped": self.dropped,
            "speaker_seconds": {k: round(v, 2) for k, v in diarization.speech_time.items() if k in used},
            "diarization": diarization.details,
            "warnings": [notice_dict(n) for n in notices],
        }

    def _report(self, stage: Stage, fraction: float) -> None:
        if self.progress is not None:
            self.progress(stage, fraction)


class _Share:
    """Progress inside one block: each step of the block moves the bar a little."""

    def __init__(self, progress: Optional[Progress], start: float, end: float, duration: float):
        self.progress, self.start, self.end, self.duration = progress, start, end, duration

    def __call__(self, step: str, fraction: float) -> None:
        if self.progress is None or self.duration <= 0:
            return
        steps = list(BLOCK_STEPS)
        before = BLOCK_STEPS[steps[steps.index(step) - 1]] if steps.index(step) else 0.0
        inside = before + (BLOCK_STEPS[step] - before) * min(max(fraction, 0.0), 1.0)
        seconds = self.start + (self.end - self.start) * inside
        within(self.progress, Stage.TRANSCRIBING, 0.0, TRANSCRIBED)(min(seconds / self.duration, 1.0))


class _timed:
    def __init__(self, timings: dict[str, float], name: str):
        self.timings, self.name = timings, name

    def __enter__(self):
        self.started = time.perf_counter()

    def __exit__(self, *exc):
        self.timings[self.name] = self.timings.get(self.name, 0.0) + time.perf_counter() - self.started
