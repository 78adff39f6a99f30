"""Every kind of domain problem that carries a code is worded in French for the web pages."""

import ast
from pathlib import Path

from api.i18n import FRENCH_PROBLEMS, STAGES, say
from hearback.errors import ConflictError, InputError, Notice
from hearback.progress import Stage

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hearback", "speakers", "sessions", "database", "jobs", "api", "app")
ERRORS = {"HearbackError", "InputError", "FetchError", "NotFoundError", "ConflictError"}  # ConfigError has its own code


def raised_codes() -> dict[str, str]:
    """Codes given as the second argument of an `...Error(...)` or `Notice(...)` call in the sources."""
    codes = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and (node.func.id.endswith("Error") or node.func.id == "Notice")
                        and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
                    codes[node.args[1].value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return codes


def test_every_code_in_the_sources_has_french_words():
    codes = raised_codes()
    assert {"not_audio", "sample_too_short", "several_voices", "duplicate_name"} <= set(codes)
    missing = {code: where for code, where in codes.items() if code not in FRENCH_PROBLEMS}
    assert not missing, f"no French text for: {missing}"


def test_every_error_a_page_can_show_carries_a_code():
    """An error without a code reads "L'opération a échoué." on a French page: each one a user of
    the service can meet has its own words (the command line's, in app/, speak English only)."""
    uncoded = []
    for package in PACKAGES[:-1]:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in ERRORS
                        and len(node.args) < 2 and not any(k.arg == "code" for k in node.keywords)):
                    uncoded.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not uncoded, f"errors without a code: {uncoded}"


def test_french_words_carry_the_details_and_english_stays_the_reference():
    short = InputError("the sample holds 2.1 s of speech; ...", "sample_too_short", seconds=2.13, needed=5.0)
    assert say(short, "fr") == ("L'extrait contient 2,1 s de parole ; il en faut au moins 5 s "
                                "d'une seule personne pour enregistrer sa voix.")
    assert say(short, "en") == "the sample holds 2.1 s of speech; ..."
    duplicate = ConflictError("a speaker named 'Alice' already exists", "duplicate_name", name="Alice")
    assert say(duplicate, "fr") == "Une voix nommée « Alice » existe déjà."
    assert say(Notice("3 voices were heard", "several_voices", {"voices": 3}), "fr").startswith("3 voix ont été entendues")
    missed = Notice("2 participant(s) not recognised: ...", "participants_not_named",
                    {"participants": [{"name": "Chloé", "speaker_id": "s1", "closest": "SPEAKER_02", "score": 0.36},
                                      {"name": "Bruno", "speaker_id": "s2", "closest": None, "score": 0.0}],
                     "threshold": 0.42})
    assert say(missed, "fr").startswith("2 participant(s) non reconnu(s) : Chloé (le plus proche : SPEAKER_02, "
                                        "score 0,36) ; Bruno, il faut 0,42 pour un nom.")
    # no code, or a template whose details are missing: the English text, never an error page
    assert say(InputError("something new"), "fr") == "something new"
    assert say(InputError("odd", "duplicate_name"), "fr") == "odd"


def test_every_stage_has_words_in_both_languages():
    for lang, words in STAGES.items():
        assert set(words) == {stage.value for stage in Stage}, lang
        assert all(words.values()), lang
    # the words a French team reads while a job runs (issue 24)
    assert [STAGES["fr"][s.value] for s in (Stage.LOADING, Stage.TRANSCRIBING, Stage.DIARIZING, Stage.IDENTIFYING,
                                            Stage.STORING, Stage.SUMMARIZING)] == [
        "chargement des modèles", "transcription", "qui parle", "noms", "enregistrement", "résumé"]


def test_a_french_page_never_shows_an_english_error_outside_its_details_fold():
    from api.i18n import worded
    from hearback.errors import FetchError

    host = FetchError("cannot resolve host 'exemple.invalid': Name or service not known", "host_unknown",
                      host="exemple.invalid")
    text, detail = worded(host, "fr")
    assert text.startswith("L'adresse de l'audio est introuvable : le serveur « exemple.invalid » n'existe pas")
    assert detail == "cannot resolve host 'exemple.invalid': Name or service not known"
    assert worded(host, "en") == (str(host), "")
    assert worded(InputError("something new, no code"), "fr") == ("L'opération a échoué.", "something new, no code")
    duplicate = ConflictError("a speaker named 'Alice' already exists", "duplicate_name", name="Alice")
    assert worded(duplicate, "fr") == ("Une voix nommée « Alice » existe déjà.", "")  # nothing more to fold


def test_an_unnamed_voice_reads_voice_n_on_a_page():
    from api.i18n import TEXT
    from api.pages import voice_name

    assert [voice_name(TEXT["fr"], x) for x in ("SPEAKER_00", "SPEAKER_01", "Armelle")] == ["Voix 1", "Voix 2", "Armelle"]
    assert voice_name(TEXT["en"], "SPEAKER_11") == "Voice 12"


def test_every_job_and_session_state_and_page_word_exists_in_both_languages():
    from api.i18n import TEXT
    from jobs.table import JobState

    assert set(TEXT["en"]) == set(TEXT["fr"])
    for lang, words in TEXT.items():
        for state in [s.value for s in JobState] + ["pending"]:  # a session is pending, done or failed
            assert words[f"state_{state}"], (lang, state)
    assert TEXT["fr"]["record"] != TEXT["fr"]["save"] != TEXT["fr"]["enrol"]  # record, name a voice, enrol
