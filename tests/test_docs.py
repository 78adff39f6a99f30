"""The README documents every setting, and its two commands exist."""

from pathlib import Path

from hearback.settings import documented_settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [env for env, _ in documented_settings() if f"`{env}`" not in readme]
    assert not missing, f"README lacks: {missing}"


def test_the_two_commands_exist_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "scripts/demo" in readme and "scripts/test" in readme
    for script in ("scripts/demo", "scripts/test", "scripts/setup", ".ci/run"):
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} is not executable"
    assert "scripts/test" in (ROOT / ".ci/run").read_text()
