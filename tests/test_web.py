"""The web pages in a real browser: Debian's Chromium driven by Playwright, against the app served
by uvicorn on 127.0.0.1 with a real database and the embedded models. Screenshots of each step
go to artifacts/screenshots/ (not in git)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import KEY, ROOT, clip, free_port, write_wav

SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(tmp_path_factory, pipeline):
    import uvicorn

    from api.app import create_app
    from hearback.settings import Settings

    tmp = tmp_path_factory.mktemp("web")
    settings = Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp}/web.db", api_key=KEY,
                        min_enrol_seconds=3.0, audio_retention_hours=1.0)
    app = create_app(settings, pipeline)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    files = tmp / "files"
    files.mkdir()
    pause = np.zeros(12000, np.float32)
    write_wav(files / "kennedy.wav", clip("jfk.flac", 5.5, 11.0))
    write_wav(files / "reader.wav", clip("multilingual.mp3", 15.0, 29.0))
    write_wav(files / "meeting.wav", np.concatenate([clip("jfk.flac", 0.0, 5.5), pause, clip("multilingual.mp3", 0.0, 14.5),
                                                     pause, clip("hotwords.mp3", 0.0, 4.0)]))
    write_wav(files / "short.wav", clip("jfk.flac", 8.0, 10.0))
    (files / "notes.txt").write_text("not audio at all")
    yield f"http://127.0.0.1:{port}", files
    server.should_exit = True
    thread.join(10)


ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: scripts/setup installs Debian's chromium package")
    SHOTS.mkdir(parents=True, exist_ok=True)
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

    # clicking a line plays the audio from there
    page.locator("#transcript li", has_text="hereby granted").click()
    page.wait_for_function("document.getElementById('player').currentTime > 0")

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
    assert page.locator("h1").inner_text() == "Voix" and "Enregistrer une nouvelle voix" in page.content()
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
    page = browser.new_page(locale="en-US")
    page.goto(f"{base}/ui/login")
    page.fill("input[name=api_key]", KEY)
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/speakers")
    page.fill("#new-name", "Recorded reader")
    page.click(".recorder .record")
    page.wait_for_timeout(8000)
    page.click(".recorder .stop")
    page.wait_for_function("document.getElementById('new-audio').files.length === 1")
    assert page.locator(".recorded").inner_text().endswith(" s")
    page.check("#new-consent")
    page.click("#enrol-form button[type=submit]")
    assert "Voice enrolled" in page.locator(".message").inner_text(), page.locator("main").inner_text()
    assert page.locator("#speakers tr[data-speaker='Recorded reader']").count() == 1
    shot(page, "10-recorded")
    browser.close()
