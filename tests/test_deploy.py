"""The self-hosting bundle (deploy/): Docker does not run here, so compose.yaml is checked against
the Compose Specification's JSON schema (vendored: deploy/compose-spec.schema.json, from the npm
package dclint 3.1.0, schemas/compose.schema.json), and against the settings object: every variable
it gives the service is a setting Hearback knows, and .env.example names every setting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import yaml

from hearback.settings import documented_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SETTINGS = {env for env, _ in documented_settings()}
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
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:\d+\.\d+\.\d+-", dockerfile, re.MULTILINE)
