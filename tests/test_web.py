"""The web pages in a real browser: Debian's Chromium driven by Playwright, against the app served
by uvicorn on 127.0.0.1 with a real database and the embedded models. Screenshots of each step go
to a temporary folder (the path is printed); with HEARBACK_SCREENSHOTS=1, to artifacts/screenshots/,
whose committed set they refresh."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import KEY, ROOT, clip, uvicorn_thread, write_wav

pytestmark = pytest.mark.slow  # the whole web journey in a browser: the slow tier

SHOTS = ROOT / "artifacts" / "screenshots" if os.environ.get("HEARBACK_SCREENSHOTS") == "1" else \
    Path(tempfile.gettempdir()) / "hearback-screenshots"
STAGES_FR = ["en attente", "démarrage", "chargement des modèles", "décodage", "transcription", "qui parle", "noms",
             "résumé", "enregistrement", "terminé", "échec", "téléchargement de l'audio"]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextlib.contextmanager
def serving(tmp: Path, pipeline, database_url: str, **settings_overrides):
    """The service on a free port of 127.0.0.1, in a thread, until the block ends."""
    from api.app import create_app
    from service.settings import Settings

    settings = Settings(data_dir=tmp / "data", database_url=database_url, api_key=KEY,
                        min_enrol_seconds=3.0, audio_retention_hours=1.0, **settings_overrides)
    with uvicorn_thread(create_app(settings, pipeline)) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory, pipeline):
    tmp = tmp_path_factory.mktemp("web")
    with serving(tmp, pipeline, f"sqlite:///{tmp}/web.db") as base:
        yield base, english_files(tmp)


def english_files(tmp: Path) -> Path:
    files = tmp / "files"
    files.mkdir()
    pause = np.zeros(12000, np.float32)
    write_wav(files / "kennedy.wav", clip("jfk.flac", 5.5, 11.0))
    write_wav(files / "reader.wav", clip("multilingual.mp3", 15.0, 29.0))
    write_wav(files / "meeting.wav", np.concatenate([clip("jfk.flac", 0.0, 5.5), pause, clip("multilingual.mp3", 0.0, 14.5),
                                                     pause, clip("hotwords.mp3", 0.0, 4.0)]))
    write_wav(files / "short.wav", clip("jfk.flac", 8.0, 10.0))
    (files / "notes.txt").write_text("not audio at all")
    return files


ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: scripts/setup installs Debian's chromium package")
    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of the web pages: {SHOTS}")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield browser
    browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def enrol(page, name: str, path, consent: bool = True) -> None:
    page.fill("#new-name", name)
    page.set_input_files("#new-audio", str(path))
    if consent:
        page.check("#new-consent")
    else:  # a refused form brings the box back as it was sent: ticked
        page.uncheck("#new-consent")
    page.click("#enrol-form button[type=submit]")


def test_enrol_transcribe_rename_name_and_search(server, browser):
    base, files = server
    page = browser.new_page(locale="en-US")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/ui/speakers")
    assert page.url.endswith("/ui/login")
    page.fill("input[name=api_key]", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "Wrong API key."
    page.fill("input[name=api_key]", KEY)
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/speakers")
    shot(page, "01-speakers-empty")

    # every form refuses bad input with a visible message
    page.set_input_files("#new-audio", str(files / "kennedy.wav"))
    page.click("#enrol-form button[type=submit]")
    assert "Give a name" in page.locator(".error").inner_text()
    enrol(page, "Kennedy", files / "notes.txt")
    assert "not a readable audio" in page.locator(".error").inner_text()
    shot(page, "02-not-audio-refused")
    assert page.is_checked("#new-consent")  # the refused form came back with its box ticked
    enrol(page, "Kennedy", files / "kennedy.wav", consent=False)
    assert "must consent" in page.locator(".error").inner_text()
    assert page.locator("#speakers tbody tr").count() == 0

    for name in ("Kennedy", "Reader"):
        enrol(page, name, files / f"{name.lower()}.wav")
        assert "Voice enrolled" in page.locator(".message").inner_text()
    enrol(page, "Kennedy", files / "kennedy.wav")
    assert "already exists" in page.locator(".error").inner_text()
    assert page.locator("#speakers tbody tr").count() == 2
    shot(page, "03-two-voices")
    assert page.evaluate(UNNAMED) == []  # rename, add-sample, merge and delete controls of each row

    # transcribe a recording, with live progress, and see the names
    page.click("text=Sessions")
    page.set_input_files("#transcribe-form input[name=audio]", str(files / "meeting.wav"))
    page.fill("#transcribe-form input[name=title]", "Session 12")
    page.fill("#transcribe-form input[name=tag]", "Curse of Strahd")
    page.select_option("#transcribe-form select[name=language]", "en")
    page.click("#transcribe-form button[type=submit]")
    page.wait_for_url("**/ui/jobs/*")
    shot(page, "04-progress")
    page.wait_for_url("**/ui/sessions/*", timeout=180_000)
    lines = page.locator("#transcript li")
    speakers = lines.locator(".speaker").all_inner_texts()
    assert "Kennedy" in speakers and "Reader" in speakers
    kennedy_line = page.locator("#transcript li", has_text="fellow Americans")
    assert kennedy_line.locator(".speaker").inner_text() == "Kennedy"
    assert page.locator("#talk-time .bar-row").count() == 3
    shot(page, "05-transcript")
    transcript_url = page.url
    assert page.locator("form.name-cluster").count() >= 1
    assert page.evaluate(UNNAMED) == []  # the "Who is it?" selects and inputs included

    # clicking a line plays the audio from there
    page.locator("#transcript li", has_text="hereby granted").click()
    page.wait_for_function("() => document.getElementById('player').currentTime > 0")

    # the stranger (hotwords) stays unknown: name it inline as a new speaker
    stranger = page.locator("form.name-cluster").first
    stranger.locator("input[name=new_name]").fill("Narrator")
    stranger.locator("input[name=consent]").check()
    stranger.locator("button").click()
    assert "Named" in page.locator(".message").inner_text()
    assert "Narrator" in page.locator("#transcript .speaker").all_inner_texts()
    shot(page, "06-named")

    # rename a speaker and see the transcript change
    page.click("text=Speakers")
    row = page.locator("#speakers tr[data-speaker=Reader]")
    row.locator("input[name=name]").fill("Professor")
    row.locator("button", has_text="Rename").click()
    assert "Renamed" in page.locator(".message").inner_text()
    row = page.locator("#speakers tr[data-speaker=Professor]")
    row.locator("input[name=name]").fill("")
    row.locator("button", has_text="Rename").click()
    assert "Give a name" in page.locator(".error").inner_text()
    page.goto(transcript_url)
    assert "Professor" in page.locator("#transcript .speaker").all_inner_texts()
    assert "Reader" not in page.locator("#transcript .speaker").all_inner_texts()

    # search what someone said, and land on the moment
    page.click("text=Search")
    page.select_option("#search-form select[name=speaker_id]", label="Professor")
    page.fill("#search-form input[name=q]", "hereby granted")
    page.click("#search-form button")
    hits = page.locator("#results li")
    assert hits.count() >= 1 and "hereby granted" in hits.first.inner_text().lower()
    shot(page, "07-search")
    hits.first.locator("a").click()
    page.wait_for_url("**/ui/sessions/*#t*")
    target = page.url.split("#", 1)[1]
    assert "hereby granted" in page.locator(f"#{target}").inner_text().lower()
    shot(page, "08-landed")

    # French text, the service's error messages included
    page.goto(f"{base}/ui/speakers?lang=fr")
    assert page.locator("h1").inner_text() == "Voix" and "Ajouter une nouvelle voix" in page.content()
    enrol(page, "Kennedy", files / "kennedy.wav")
    assert page.locator(".error").inner_text() == "Une voix nommée « Kennedy » existe déjà."
    enrol(page, "Court", files / "notes.txt")
    assert "n'est pas un fichier audio ou vidéo lisible" in page.locator(".error").inner_text()
    enrol(page, "Court", files / "kennedy.wav", consent=False)
    assert "cochez la case de consentement" in page.locator(".error").inner_text()
    enrol(page, "Court", files / "short.wav")
    assert "il en faut au moins 3 s d'une seule personne" in page.locator(".error").inner_text()
    assert page.locator("#speakers tr[data-speaker=Court]").count() == 0
    shot(page, "09-francais")

    # delete with confirmation
    page.goto(f"{base}/ui/speakers?lang=en")
    page.locator("#speakers tr[data-speaker=Narrator]").locator("button", has_text="Delete").click()
    assert "Deleted" in page.locator(".message").inner_text()
    assert page.locator("#speakers tr[data-speaker=Narrator]").count() == 0
    page.close()


def test_enrol_by_recording_in_the_browser(server, playwright):
    """MediaRecorder in Chromium, its microphone fed from a real recording (Chromium's fake capture)."""
    base, files = server
    microphone = write_wav(files / "microphone.wav", np.concatenate([clip("multilingual.mp3", 0.0, 12.0)] * 2))
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}"])
    page = browser.new_page(locale="fr-FR")
    log_in(page, base)
    page.fill("#new-name", "Recorded reader")
    page.click(".recorder .record")
    page.wait_for_timeout(4000)
    # while recording: a running timer (decimal comma in French) and a level meter that moves
    assert re.fullmatch(r"enregistrement · \d+,\d s", page.locator(".recorded").inner_text())
    assert page.locator(".recorder meter").is_visible()
    page.wait_for_function("() => document.querySelector('.recorder meter').value > 0.01")
    page.wait_for_timeout(4000)
    page.click(".recorder .stop")
    page.wait_for_function("() => document.getElementById('new-audio').files.length === 1")
    assert re.fullmatch(r"\d+,\d s", page.locator(".recorded").inner_text())
    page.check("#new-consent")
    page.click("#enrol-form button[type=submit]")
    assert page.locator(".message").inner_text() == "Voix ajoutée.", page.locator("main").inner_text()
    assert page.locator("#speakers tr[data-speaker='Recorded reader']").count() == 1
    shot(page, "10-recorded")
    browser.close()


# ------------------------------------------------------------------------------ the French journey

# Words of the English catalogue (stages, states, messages) that must never show on a French page.
ENGLISH = ["waiting", "starting", "loading the models", "downloading the audio", "decoding", "transcribing",
           "who speaks", "summarizing", "storing", "done", "failed", "pending", "SPEAKER_", "Voice",
           "running", "queued", "Give a name", "Choose an audio file", "Give a file or a URL", "Wrong API key",
           "Transcribing", "The transcription failed", "Field required", "detail", "Not Found",
           "is not a readable audio", "This page does not exist", "Voice enrolled", "Merged", "Deleted",
           "Record", "Save", "Speakers", "Sessions", "Search", "Log out", "about", "left"]

# Every element a keyboard or a screen reader reaches has a name (what axe-core's rules "button-name",
# "link-name", "label", "select-name" check), computed as browsers do in the simple cases used here.
UNNAMED = """() => {
  const named = (el) => {
    const text = (s) => (s || "").replace(/\\s+/g, " ").trim();
    if (text(el.getAttribute("aria-label"))) return true;
    const by = el.getAttribute("aria-labelledby");
    if (by && by.split(" ").some((id) => document.getElementById(id) && text(document.getElementById(id).textContent))) return true;
    if (el.labels && [...el.labels].some((l) => text(l.textContent))) return true;
    if (["A", "BUTTON", "SUMMARY"].includes(el.tagName) && text(el.textContent)) return true;
    if (el.tagName === "INPUT" && ["submit", "button", "reset"].includes(el.type) && text(el.value)) return true;
    return Boolean(text(el.getAttribute("title")));
  };
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const all = document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, " +
                                        "[tabindex]:not([tabindex='-1']), audio[controls], progress, meter");
  return [...all].filter((el) => visible(el) && !named(el)).map((el) => el.outerHTML.slice(0, 120));
}"""


FRENCH_MAX_BYTES = 2_000_000


# The contrast ratio (WCAG 2) of each timestamp and speaker chip against the background behind it.
CONTRASTS = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                       return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const behind = (el) => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
                           if (!c.startsWith("rgba(0, 0, 0, 0)") && c !== "transparent") return c; } return "rgb(255, 255, 255)"; };
  return [...document.querySelectorAll("#transcript .time, #transcript .chip, #talk-time .who")].map((el) => {
    const a = lum(getComputedStyle(el).color), b = lum(behind(el));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}"""


def french_files(tmp: Path) -> Path:
    files = tmp / "files"
    files.mkdir()
    pause = np.zeros(12000, np.float32)
    write_wav(files / "armelle.wav", clip("voices/prompts/armelle_fr_vm-options.flac", 0.0, 14.0))
    write_wav(files / "kennedy.wav", clip("jfk.flac", 5.5, 11.0))
    write_wav(files / "réunion.wav", np.concatenate([
        clip("jfk.flac", 0.0, 5.5), pause, clip("voices/prompts/armelle_fr_dir-intro.flac", 0.0, 13.26), pause,
        clip("voices/prompts/armelle_fr_vm-msginstruct.flac", 0.0, 8.0)]))
    (files / "notes.txt").write_text("pas du tout de l'audio")
    write_wav(files / "deux-voix.wav", clip("pyannote_sample.wav", 0.0, 30.0))
    write_wav(files / "trop-gros.wav", np.zeros(16000 * 140, np.float32))  # 4.5 MB, over FRENCH_MAX_BYTES
    return files


@pytest.fixture(scope="module")
def french_server(tmp_path_factory, pipeline):
    tmp = tmp_path_factory.mktemp("web-fr")
    with serving(tmp, pipeline, f"sqlite:///{tmp}/web.db", max_bytes=FRENCH_MAX_BYTES) as base:
        yield base, french_files(tmp)


def french_page_checks(page, name: str, width: int) -> None:
    """What every French page must hold to: no English word of the catalogue, every control named,
    nothing wider than the window; then a screenshot."""
    text = page.locator("header").inner_text() + "\n" + page.locator("main").evaluate(
        "m => { const c = m.cloneNode(true); c.querySelectorAll('#transcript .text, #results li, .summary-text')"
        ".forEach(e => e.remove()); return c.innerText; }")
    found = [w for w in ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]
    assert not found, f"{name}: English on a French page: {found}\n{text}"
    assert page.evaluate(UNNAMED) == [], name
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{name}: {wide} px wide in a {width} px window"
    shot(page, f"fr-{width}-{name}")


def seconds_left(text: str):
    """The job page's "· encore 1 min 05 s environ" in seconds, None when no time is shown."""
    found = re.search(r"(?:(\d+) min )?(\d+) s", text)
    return None if not found else int(found.group(1) or 0) * 60 + int(found.group(2))


def watch_progress(page) -> tuple[list, list]:
    """Every change of the job page's percentage, stage and time left, as the page showed them, in
    order (a MutationObserver: a step shown for 80 ms is seen as well as one shown for a second)."""
    seen, stages = [], []  # (percent, seconds left or None); stage texts

    def shown(percent: str, stage: str, left: str) -> None:
        seen.append((int(percent.split()[0]), seconds_left(left)))
        stages.append(stage)

    page.expose_function("hearbackShown", shown)
    page.add_init_script("""document.addEventListener("DOMContentLoaded", () => {
      const job = document.getElementById("job");
      if (!job) return;
      const read = () => window.hearbackShown(document.getElementById("job-percent").textContent,
        document.getElementById("job-stage").textContent, document.getElementById("job-left").textContent);
      new MutationObserver(read).observe(job, { subtree: true, childList: true, characterData: true });
      read();
    });""")
    return seen, stages


def check_progress(seen: list, stages: list) -> None:
    percents = sorted({p for p, _ in seen})
    print(f"progress shown: {percents}; stages {list(dict.fromkeys(stages))}; {seen}")
    # 0, the speech found, the ASR's encoder and decoder, the speaker windows, naming, saving: the
    # steps shorter than a poll are shown in turn from the job's trail
    assert len(percents) >= 5, f"the progress bar took the values {percents}"
    assert {"transcription", "qui parle", "enregistrement"} <= set(stages), stages
    assert [p for p, _ in seen] == sorted(p for p, _ in seen), seen  # never back
    for (p0, l0), (p1, l1) in zip(seen, seen[1:]):
        assert not (p1 == p0 and l0 is not None and l1 is not None and l1 > l0), f"time left rose at {p1} %: {seen}"
    assert set(stages) <= set(STAGES_FR), stages
    assert all(left is None for p, left in seen if p == 100), seen  # done: no time left shown
    walked = [stage for i, stage in enumerate(stages) if not i or stage != stages[i - 1]]
    assert len(walked) == len(set(walked)), f"a stage came back (one block of audio): {walked}"


def log_in(page, base: str) -> None:
    page.goto(f"{base}/ui/login")
    page.fill("input[name=api_key]", KEY)
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/speakers")


def test_french_journey_at_1280_px(french_server, browser):
    """Log in, enrol, transcribe with live progress, review, search, delete, in French, with every
    refused form shown on its page in French and what was typed kept."""
    base, files = french_server
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    assert page.request.get(f"{base}/favicon.ico").ok

    page.goto(f"{base}/ui/login")
    page.click("button[type=submit]")  # empty key: the page stays, in French
    assert page.url.startswith(f"{base}/ui/login") and page.locator(".error").inner_text() == "Clé d'API incorrecte."
    french_page_checks(page, "01-connexion", 1280)
    log_in(page, base)
    for path in ("/ui", "/ui/"):  # the README's address
        page.goto(base + path)
        assert page.url == f"{base}/ui/speakers" and page.locator("h1").inner_text() == "Voix"
    page.goto(f"{base}/ui/nulle-part")
    assert page.locator("#problem").inner_text() == "Cette page n'existe pas."
    french_page_checks(page, "02-introuvable", 1280)

    # refused forms: in French, on the page, with the name typed kept
    page.goto(f"{base}/ui/speakers")
    page.click("#enrol-form button[type=submit]")
    assert page.url.startswith(f"{base}/ui/speakers") and page.locator(".error").inner_text() == "Donnez un nom."
    page.fill("#new-name", "Armelle")
    page.click("#enrol-form button[type=submit]")
    assert page.locator(".error").inner_text() == "Choisissez un fichier audio, ou enregistrez-en un."
    assert page.input_value("#new-name") == "Armelle"
    enrol(page, "Armelle", files / "notes.txt")
    problem = page.locator(".error").inner_text()
    assert problem.startswith("notes.txt n'est pas un fichier audio") and "hearback-" not in problem
    assert page.input_value("#new-name") == "Armelle"
    french_page_checks(page, "03-pas-audio", 1280)
    # recording explains itself: on http://127.0.0.1 the microphone is there (a secure context)
    assert page.locator(".recorder .record").is_enabled()

    enrol(page, "Armelle", files / "armelle.wav")
    assert page.locator(".message").inner_text() == "Voix ajoutée."
    enrol(page, "Kennedy", files / "kennedy.wav")
    assert page.locator("#speakers tbody tr").count() == 2
    row = page.locator("#speakers tr[data-speaker=Kennedy]")
    row.locator("form.add-sample button").click()  # "Ajouter un extrait" with no file
    assert page.url.startswith(f"{base}/ui/speakers")
    assert page.locator(".error").inner_text() == "Choisissez un fichier audio, ou enregistrez-en un."
    assert "Fusionner dans (cette voix reste)" in page.locator("#speakers form.merge").first.inner_text()
    french_page_checks(page, "04-voix", 1280)
    # a sample of two voices: enrolled, its warning apart from the success; then deleted
    enrol(page, "Deux voix", files / "deux-voix.wav")
    assert page.locator(".message").inner_text() == "Voix ajoutée."
    assert "voix ont été entendues dans l'extrait" in page.locator(".warning").inner_text()
    french_page_checks(page, "04b-avertissement", 1280)
    page.locator("#speakers tr[data-speaker='Deux voix'] button.danger").click()
    assert page.locator(".message").inner_text() == "Supprimé."
    # a file over HEARBACK_MAX_BYTES: refused before it is sent, on the page, in French, the name kept
    enrol(page, "Gros", files / "trop-gros.wav")
    assert page.url.startswith(f"{base}/ui/speakers") and page.input_value("#new-name") == "Gros"
    assert page.locator("#client-error").inner_text() == ("trop-gros.wav dépasse la limite de "
                                                   f"{FRENCH_MAX_BYTES} octets (HEARBACK_MAX_BYTES).")

    # a transcription that fails: the page says why, in French, naming the user's file
    page.click("text=Séances")
    page.click("#transcribe-form button[type=submit]")  # nothing given
    assert page.locator(".error").inner_text() == "Donnez un fichier ou une URL."
    page.fill("#transcribe-form input[name=title]", "Pas de l'audio")
    page.set_input_files("#transcribe-form input[name=audio]", str(files / "notes.txt"))
    page.click("#transcribe-form button[type=submit]")
    page.wait_for_url("**/ui/jobs/*")
    page.wait_for_function("() => !document.getElementById('job-error').hidden", timeout=60_000)
    assert page.locator("h1").inner_text() == "La transcription a échoué"
    assert page.locator("#job-error").inner_text().startswith("notes.txt n'est pas un fichier audio")
    assert page.locator("#job-stage").inner_text() == "échec"
    french_page_checks(page, "05-echec", 1280)
    page.click("text=Séances")
    page.locator("#sessions a", has_text="Pas de l'audio").click()  # the failed session says why, not an empty transcript
    reason = page.locator("#unfinished").inner_text()
    assert reason.startswith("Cet enregistrement n'a pas pu être transcrit. notes.txt n'est pas un fichier audio")
    french_page_checks(page, "05b-seance-echouee", 1280)

    # a real transcription, with live progress and the time left
    page.click("text=Séances")
    page.fill("#transcribe-form input[name=title]", "Réunion d'équipe")
    page.fill("#transcribe-form input[name=tag]", "Comité")
    page.set_input_files("#transcribe-form input[name=audio]", str(files / "réunion.wav"))
    seen, stages = watch_progress(page)
    page.click("#transcribe-form button[type=submit]")
    page.wait_for_url("**/ui/jobs/*")
    job_url = page.url
    listing = context.new_page()  # the sessions list, open while the job runs, follows it without a reload
    listing.goto(f"{base}/ui/sessions")
    running = listing.locator("#sessions tr", has_text="Réunion d'équipe").locator("td.state")
    assert running.inner_text().startswith(("en attente", "en cours")), running.inner_text()
    french_page_checks(page, "06-progression", 1280)
    page.wait_for_url("**/ui/sessions/*", timeout=180_000)
    check_progress(seen, stages)
    listing.wait_for_function("() => [...document.querySelectorAll('#sessions td.state')].map(c => c.textContent.trim())"
                              ".filter(t => t === 'terminée').length === 1", timeout=20_000)
    assert listing.locator("#sessions tr", has_text="Réunion d'équipe").locator("a").get_attribute("href") == \
        page.url.split("#")[0].replace(base, "")
    listing.close()

    # the transcript: named voices, distinct colours, bars in proportion, lines played from the keyboard
    speakers = page.locator("#transcript .speaker").all_inner_texts()
    assert {"Armelle", "Kennedy"} <= set(speakers), speakers
    bars = page.locator("#talk-time .bar")
    colours = {bars.nth(i).evaluate("b => getComputedStyle(b).backgroundColor") for i in range(bars.count())}
    assert len(colours) == bars.count() >= 2
    button = page.locator("#transcript li button.play").nth(1)
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('player').currentTime > 0")
    assert "playing" in page.locator("#transcript li").nth(1).get_attribute("class")
    french_page_checks(page, "07-transcription", 1280)
    assert min(page.evaluate(CONTRASTS)) >= 4.5  # timestamps and speaker names on their backgrounds
    session_url = page.url
    download = page.request.get(session_url + "/download?format=srt")
    assert "Reunion d'equipe.srt" in download.headers["content-disposition"]
    assert "R%C3%A9union%20d%27%C3%A9quipe.srt" in download.headers["content-disposition"]
    page.goto(job_url)  # the way back to a finished job leads to its transcript
    page.wait_for_url(session_url)

    # the sessions list: states in French, a date filter
    page.click("text=Séances")
    states = page.locator("#sessions td.state").all_inner_texts()
    assert sorted(s.strip() for s in states) == ["terminée", "échec"]
    page.fill("#filter-form input[name=since]", "2000-01-01")
    page.fill("#filter-form input[name=until]", "2000-12-31")
    page.click("#filter-form button")
    assert page.locator("#sessions tbody tr").count() == 0
    page.fill("#filter-form input[name=until]", "")
    page.click("#filter-form button")
    assert page.locator("#sessions tbody tr").count() == 2
    french_page_checks(page, "08-seances", 1280)

    # search every voice without accents or case; the language switch keeps the query; a hit cues the audio
    page.click("text=Recherche")
    page.fill("#search-form input[name=q]", "TELEPHONE")
    page.click("#search-form button")
    hits = page.locator("#results li")
    assert hits.count() >= 1 and "téléphone" in hits.first.inner_text().lower()
    page.click("header a.lang[hreflang=en]")
    assert page.input_value("#search-form input[name=q]") == "TELEPHONE" and page.locator("h1").inner_text() == "Search"
    page.click("header a.lang[hreflang=fr]")
    assert page.input_value("#search-form input[name=q]") == "TELEPHONE"
    french_page_checks(page, "09-recherche", 1280)
    hits.first.locator("a").click()
    page.wait_for_url("**/ui/sessions/*#t*")
    target = page.url.split("#", 1)[1]
    start = float(page.locator(f"#{target}").get_attribute("data-start"))
    page.wait_for_function(f"() => Math.abs(document.getElementById('player').currentTime - {start}) < 0.05")
    assert page.evaluate("document.activeElement.classList.contains('play')")

    # "armelle" finds Armelle; her page: voiceprints, sessions, the export archive
    page.goto(f"{base}/ui/search?q=armelle")
    page.locator("#people a.person", has_text="Armelle").click()
    page.wait_for_url("**/ui/speakers/*")
    assert page.locator("#person-name").inner_text() == "Armelle"
    prints = page.locator("#voiceprints tbody").inner_text()  # her sample, and what the meeting taught
    assert "ajoutée à partir d'un extrait" in prints and "donné par Armelle (fichier envoyé)" in prints, prints
    assert "noté par la clé principale du service" in prints and "HEARBACK_" not in prints, prints
    assert "Réunion d'équipe" in page.locator("#person-sessions").inner_text()
    french_page_checks(page, "10-personne", 1280)
    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename.endswith(".zip")
    # erasure from Kennedy's page names him and says what went
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.goto(f"{base}/ui/speakers")
    page.locator("#speakers tr[data-speaker=Kennedy] td.name a").click()
    page.click("#erase-form button.danger")
    assert "Supprimer la voix de Kennedy ?" in dialogs
    assert re.fullmatch(r"La voix de Kennedy est supprimée : \d empreinte\(s\), 1 extrait\(s\) audio\.",
                        page.locator(".message").inner_text())
    french_page_checks(page, "11-voix-supprimee", 1280)

    # delete the failed session: gone from the list, written to the audit log
    page.click("text=Séances")
    page.locator("#sessions tr", has_text="Pas de l'audio").locator("button.danger").click()
    assert page.locator(".message").inner_text() == "Séance supprimée."
    assert page.locator("#sessions tbody tr").count() == 1
    audit = page.request.get(f"{base}/audit", headers={"X-API-Key": KEY}).json()
    assert any(e["action"] == "delete" for e in (audit["items"] if isinstance(audit, dict) else audit))
    context.close()


@pytest.mark.parametrize("width", [390, 360])
def test_french_pages_fit_a_phone(french_server, browser, width):
    """After the journey above: every page at phone width, nothing wider than the screen, the
    log-out button inside the header, the talk-time bars in proportion; at 390 px, an upload's live
    progress as at 1280 px."""
    base, files = french_server
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 800}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.goto(f"{base}/ui/login")
    french_page_checks(page, "connexion", width)
    log_in(page, base)
    header = page.locator("header").bounding_box()
    logout = page.locator("header form button").bounding_box()
    assert logout["x"] + logout["width"] <= header["x"] + header["width"] and logout["x"] >= 0
    assert logout["y"] + logout["height"] <= header["y"] + header["height"]
    french_page_checks(page, "voix", width)
    page.goto(f"{base}/ui/sessions")
    french_page_checks(page, "seances", width)
    page.locator("#sessions a").first.click()
    page.wait_for_url("**/ui/sessions/*")
    french_page_checks(page, "transcription", width)
    widths = [page.locator("#talk-time .bar").nth(i).bounding_box()["width"]
              for i in range(page.locator("#talk-time .bar").count())]
    talk = [sum(int(x) * 60 ** i for i, x in enumerate(reversed(t.split(":"))))
            for t in page.locator("#talk-time .seconds").all_inner_texts()]
    assert widths[0] > widths[-1] * 1.3 and talk[0] > talk[-1], (widths, talk)
    page.goto(f"{base}/ui/search?q=repeter")
    assert page.locator("#results li").count() >= 1
    french_page_checks(page, "recherche", width)
    page.goto(f"{base}/ui/search?q=armelle")
    page.locator("#people a.person", has_text="Armelle").click()
    page.wait_for_url("**/ui/speakers/*")
    french_page_checks(page, "personne", width)
    page.goto(f"{base}/ui/nulle-part")
    french_page_checks(page, "introuvable", width)
    if width == 390:  # the same live progress on a phone: the 30 s recording again
        page.goto(f"{base}/ui/sessions")
        page.fill("#transcribe-form input[name=title]", "Réunion au téléphone")
        page.set_input_files("#transcribe-form input[name=audio]", str(files / "réunion.wav"))
        seen, stages = watch_progress(page)
        page.click("#transcribe-form button[type=submit]")
        page.wait_for_url("**/ui/jobs/*")
        french_page_checks(page, "progression", width)
        page.wait_for_url("**/ui/sessions/*", timeout=180_000)
        check_progress(seen, stages)
        assert page.locator("h1").inner_text() == "Réunion au téléphone"
    context.close()


def test_recording_says_why_it_cannot_start_on_a_page_that_is_not_secure(french_server, playwright):
    """Over plain http on a name other than localhost, browsers give no microphone
    (`navigator.mediaDevices` is undefined): the page says so, in French, and offers the upload."""
    base, _ = french_server
    port = base.rsplit(":", 1)[1]
    browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                         args=ARGS + ["--host-resolver-rules=MAP hearback.test 127.0.0.1"])
    page = browser.new_page(locale="fr-FR")
    log_in(page, f"http://hearback.test:{port}")
    assert page.evaluate("() => [window.isSecureContext, typeof navigator.mediaDevices]") == [False, "undefined"]
    note = page.locator(".recorder-note")
    assert note.is_visible() and note.inner_text().startswith("L'enregistrement demande une page sécurisée")
    assert page.locator(".recorder .record").is_disabled()
    shot(page, "fr-1280-micro-indisponible")
    browser.close()


def test_time_left_waits_for_two_points_and_never_climbs_while_the_bar_stands_still(browser):
    """The job page's estimate (app.js), fed the percentages a 30 s recording gave: 26 % for the
    whole transcription once made the time left climb from 12 s to 1 min 38; now it counts down."""
    page = browser.new_page()
    page.set_content("<html lang='fr'><body></body></html>")
    page.add_script_tag(path=str(ROOT / "api" / "static" / "app.js"))
    polls = [(0.0, 0), (0.4, 3), (0.8, 3), (1.2, 6)] + [(1.2 + 0.4 * i, 26) for i in range(1, 200)] + \
            [(81.0, 91), (81.4, 95), (81.8, 97), (82.2, 98)]
    told = page.evaluate("polls => { const left = window.hearbackTimeLeft(); "
                         "return polls.map(([t, p]) => [p, left(p, t)]); }", polls)
    assert told[0][1] is None and told[1][1] is None  # one point (or none) gives no speed
    assert told[3][1] is not None
    for (p0, l0), (p1, l1) in zip(told, told[1:]):
        if p1 == p0:
            assert l1 is None or (l0 is not None and l1 <= l0), f"the time left went {l0} → {l1} at {p1} %"
    stalled = [left for p, left in told if p == 26]
    counted = [left for left in stalled if left is not None]
    assert counted[0] > counted[-1] >= 1 and stalled[-1] is None  # counted down; once run out, no figure
    assert told[-4][1] is not None  # the bar moved again: a new estimate
    page.close()


def test_pages_answer_pages_never_json(tmp_path):
    """What a browser cannot easily show: a form over HEARBACK_MAX_BYTES refused before its body
    is read goes back to its page with a French message; /ui/ leads to the pages; a wrong date
    filter is said on the page; the favicon exists; sessions are deleted and filtered by date by API."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from service.settings import Settings

    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/web.db", api_key=KEY,
                              max_bytes=1000))
    own = {"Origin": "http://127.0.0.1", "Referer": "http://127.0.0.1/ui/speakers", "Accept-Language": "fr-FR"}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.post("/ui/login", data={"api_key": KEY}, follow_redirects=False).status_code == 303
        refused = client.post("/ui/speakers", files={"audio": ("gros.wav", b"0" * 1_100_000)}, data={"name": "X"},
                              headers=own, follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/ui/speakers?err=Le+fichier")
        assert client.get("/ui/", follow_redirects=False).headers["location"] == "/ui/speakers"
        bad_date = client.get("/ui/sessions?since=hier", headers=own)
        assert bad_date.status_code == 200 and "Une date s&#39;écrit AAAA-MM-JJ" in bad_date.text
        assert client.get("/favicon.ico").headers["content-type"] == "image/svg+xml"
        unknown = client.get("/ui/sessions/inconnue/download?format=srt", headers=own)
        assert unknown.headers["content-type"].startswith("text/html") and "Cette séance n&#39;existe pas" in unknown.text
        api = {"X-API-Key": KEY}
        assert client.delete("/sessions/inconnue", headers=api).json()["code"] == "session_not_found"
        assert client.get("/sessions?since=2020-01-01&until=2020-12-31", headers=api).json() == {"total": 0, "items": []}


def test_the_transcript_page_says_what_was_not_transcribed_in_french(tmp_path):
    """A transcript's quality warnings (speech not transcribed, two languages heard) are on its
    page, in the page's language, with French numbers."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from hearback.errors import Notice
    from hearback.quality import notice_dict
    from hearback.result import Segment, Transcript, Word
    from service.settings import Settings
    from sessions import transcripts
    from speakers.identification import Embedder

    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/web.db", api_key=KEY))
    warnings = [Notice("12 s of speech could not be transcribed (see quality.untranscribed)", "untranscribed_speech",
                       {"seconds": 12.4}),
                Notice("2 languages heard: French (70%), English (30%)", "several_languages",
                       {"languages": ["fr", "en"], "shares": [0.7, 0.3]})]
    words = [Word(" Bonjour", 0.5, 0.9, 0.9, "SPEAKER_00"), Word(" à", 0.9, 1.0, 0.9, "SPEAKER_00")]
    transcript = Transcript([Segment(0.5, 1.0, "Bonjour à", words, "SPEAKER_00", "fr")], "fr", 40.0,
                            speakers=["SPEAKER_00"], quality={"warnings": [notice_dict(n) for n in warnings]})
    with TestClient(app, base_url="http://127.0.0.1") as client:
        with app.state.database.open() as db:
            session = transcripts.add_session(db, "default", title="Réunion client")
            db.commit()
            transcripts.store_transcript(db, app.state.matcher, "default", session.id, transcript,
                                        Embedder("campp-3dspeaker-zh-en-192", 192), 0.38)
        assert client.post("/ui/login", data={"api_key": KEY}, follow_redirects=False).status_code == 303
        french = client.get(f"/ui/sessions/{session.id}", headers={"Accept-Language": "fr-FR"}).text
        english = client.get(f"/ui/sessions/{session.id}?lang=en", headers={"Accept-Language": "en"}).text
    assert "12 s de parole n&#39;ont pas pu être transcrites" in french
    assert "français" in french.lower() and "could not be transcribed" not in french
    assert "12 s of speech could not be transcribed" in english and "2 languages heard" in english
