"""The README documents every setting, and its two commands exist."""

from pathlib import Path

from hearback.settings import documented_settings
from service.settings import Settings as ServiceSettings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [env for env, _ in documented_settings(ServiceSettings) if f"`{env}`" not in readme]
    assert not missing, f"README lacks: {missing}"


def test_the_two_commands_exist_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "scripts/demo" in readme and "scripts/test" in readme
    for script in ("scripts/demo", "scripts/test", "scripts/setup", ".ci/run"):
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} is not executable"
    assert "scripts/test" in (ROOT / ".ci/run").read_text()


def test_the_readme_layout_names_every_module_of_the_service_and_the_library():
    """The Layout section matches the tree: each package and each module of the service's rooms is
    named there (a module moved or added without the map following fails here)."""
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout"):]
    layout = layout[:layout.index("\n## ") if "\n## " in layout else len(layout)]
    missing = []
    for package in ("hearback", "service", "database", "speakers", "sessions", "jobs", "api", "app", "bench"):
        if f"{package}/" not in layout:
            missing.append(f"{package}/")
    for package in ("database", "speakers", "sessions", "jobs"):
        missing += [f"{package}/{p.name}" for p in sorted((ROOT / package).glob("*.py"))
                    if p.name != "__init__.py" and p.stem not in layout]
    missing += [f"hearback/{p.name}" for p in sorted((ROOT / "hearback").glob("*.py"))
                if p.name != "__init__.py" and p.stem not in layout]
    assert not missing, f"README's layout lacks: {missing}"
