"""The web pages a French team trusts (issue 24), without a browser or a model: failures worded in
French (the original words only in a "détails" fold), messages a page shows only when this service
wrote them, a person's page with their voiceprints, sessions, export and erasure, unnamed voices as
"Voix 1", language names, and a sentence when the audio is not kept."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape

import numpy as np
import pytest
from conftest import KEY

FR = {"Accept-Language": "fr-FR"}
# English a French page must not show outside its "détails" fold
ENGLISH = ["cannot resolve host", "Name or service not known", "unknown output format", "failed", "error",
           "SPEAKER_", "Voice ", "HEARBACK_"]


def shown(html: str) -> str:
    """The words a reader sees: without the folded details, scripts, tags and attributes."""
    html = re.sub(r"<details.*?</details>|<script.*?</script>|<head>.*?</head>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def assert_french_only(html: str) -> str:
    text = shown(html)
    found = [w for w in ENGLISH if w.lower() in text.lower()]
    assert not found, f"English on a French page: {found}\n{text}"
    return text


@pytest.fixture
def client(tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from service.settings import Settings

    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/web.db", api_key=KEY,
                              audio_retention_hours=0.0))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.post("/ui/login", data={"api_key": KEY}, follow_redirects=False).status_code == 303
        yield client


def test_a_failed_download_and_a_wrong_format_are_told_in_french(client):
    answer = client.post("/ui/sessions", data={"audio_url": "http://exemple.invalid/reunion.wav", "title": "Réunion"},
                         headers={**FR, "Referer": "http://127.0.0.1/ui/sessions"}, follow_redirects=False)
    job_id = answer.headers["location"].rsplit("/", 1)[1]
    job = client.app.state.runner.wait(job_id, timeout=60)
    assert job.state == "failed" and job.error_code == "host_unknown"
    page = client.get(f"/ui/jobs/{job_id}", headers=FR).text
    text = assert_french_only(page)
    assert "le serveur « exemple.invalid » n'existe pas ou ne répond pas" in text
    assert "<summary>détails</summary>" in page and "cannot resolve host" in page  # folded, for a technician
    state = client.get(f"/ui/jobs/{job_id}/state", headers=FR).json()
    assert state["stage_text"] == "échec" and state["error"].startswith("L'adresse de l'audio est introuvable")
    assert state["detail"].startswith("cannot resolve host 'exemple.invalid'")
    assert client.get(f"/transcriptions/{job_id}", headers={"X-API-Key": KEY}).json()["error"].startswith(
        "cannot resolve host")  # the API keeps its English and its code
    session = assert_french_only(client.get(f"/ui/sessions/{job.session_id}", headers=FR).text)
    assert "Cet enregistrement n'a pas pu être transcrit. L'adresse de l'audio est introuvable" in session

    pdf = client.get(f"/ui/sessions/{job.session_id}/download?format=pdf", headers=FR)
    text = assert_french_only(pdf.text)
    assert "Format de téléchargement inconnu « pdf » : choisissez parmi json, srt, vtt, txt, rttm." in text


def test_a_page_shows_only_the_messages_it_wrote(client):
    login = client.get("/ui/login?err=Votre+compte+est+bloqu%C3%A9+%3A+appelez+le+0800&msg=Bravo", headers=FR).text
    assert "0800" not in login and "Bravo" not in login
    assert "Hearback transcrit vos enregistrements" in shown(login) and "La clé vous est donnée par" in shown(login)
    client.cookies.clear()
    wrong = client.post("/ui/login", data={"api_key": "faux"}, headers=FR)
    assert "Clé d'API incorrecte." in shown(wrong.text)
    tampered = str(wrong.url).replace("err=Cl", "err=Xl")
    assert "API incorrecte" not in client.get(tampered, headers=FR).text


def armelle(client, tmp_path):
    """Armelle, enrolled with consent and a kept sample, heard in one session next to an unnamed voice."""
    from hearback.result import Segment, Transcript, Word
    from sqlalchemy import update

    from sessions import transcripts
    from sessions.tables import Cluster, Utterance
    from speakers.consent import Consent, record_consent
    from speakers.identification import Embedder
    from speakers.roster import create_speaker
    from speakers.tables import Voiceprint

    app = client.app
    vector = np.zeros(192, np.float32)
    vector[0] = 1.0
    with app.state.database.open() as db:
        person = create_speaker(db, "default", "Armelle")
        record = record_consent(db, person, Consent(True, "upload", "Armelle", recorded_by="web"), "default")
        key = app.state.voices.keep(person.id, np.zeros(16000, np.float32))
        db.add(Voiceprint(speaker_id=person.id, embedder="campp-3dspeaker-zh-en-192", dimension=192,
                          vector=vector.tobytes(), source="web armelle.wav", speech_seconds=14.0, audio_key=key,
                          consent_id=record.id))
        session = transcripts.add_session(db, "default", title="Comité du lundi")
        db.commit()
        person_id, session_id = person.id, session.id
        words = [Word(" Bonjour", 0.5, 0.9, 0.9, "SPEAKER_00"), Word(" Oui", 2.0, 2.5, 0.9, "SPEAKER_01")]
        transcript = Transcript([Segment(0.5, 1.9, "Bonjour à tous", words[:1], "SPEAKER_00", "fr"),
                                 Segment(2.0, 2.5, "Oui", words[1:], "SPEAKER_01", "fr")], "fr", 40.0,
                                speakers=["SPEAKER_00", "SPEAKER_01"],
                                speaker_embeddings={"SPEAKER_00": vector, "SPEAKER_01": np.roll(vector, 5)},
                                embedder="campp-3dspeaker-zh-en-192")
        transcripts.store_transcript(db, app.state.matcher, "default", session_id, transcript,
                                     Embedder("campp-3dspeaker-zh-en-192", 192), 0.38)
        for table in (Utterance, Cluster):  # SPEAKER_00 is hers (the matcher's index is not filled here)
            db.execute(update(table).where(table.session_id == session_id, table.cluster_label == "SPEAKER_00"
                                           if table is Utterance else table.label == "SPEAKER_00")
                       .values(speaker_id=person_id))
        db.commit()
    return person_id, session_id


def test_a_person_page_with_voiceprints_sessions_export_and_erasure(client, tmp_path):
    person_id, session_id = armelle(client, tmp_path)
    found = client.get("/ui/search?q=armelle", headers=FR).text
    assert f'href="/ui/speakers/{person_id}" class="person">Armelle</a>' in found  # the name finds the person

    page = client.get(f"/ui/speakers/{person_id}", headers=FR).text
    text = assert_french_only(page)
    assert "Armelle" in text and "consentement donné" in text and not re.search(r"\belle consent", text)
    assert "ajoutée à partir d'un extrait" in text and "donné par Armelle (fichier envoyé)" in text and "noté par web" in text
    assert "Comité du lundi" in text and "0:01" in text  # the session and her talk time in it
    assert "L'effacement supprime 1 empreinte(s) vocale(s) et 1 extrait(s) audio conservé(s)" in text
    assert 'data-confirm="Supprimer la voix de Armelle ?"' in page

    archive = client.get(f"/ui/speakers/{person_id}/export", headers=FR)
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert {"profile.json", "voiceprints.json", "utterances.json", "audit.json"} <= set(z.namelist())
        assert "Bonjour à tous" in z.read("utterances.json").decode()
        assert any(name.startswith("audio/") for name in z.namelist())

    erased = client.post(f"/ui/speakers/{person_id}/erase", data={}, headers={**FR, "Origin": "http://127.0.0.1"})
    assert "La voix de Armelle est supprimée : 1 empreinte(s), 1 extrait(s) audio." in shown(erased.text)
    assert "effacée" in shown(erased.text)  # the person stays, her voice is gone
    audit = client.get("/audit", headers={"X-API-Key": KEY}).json()
    actions = [e["action"] for e in (audit["items"] if isinstance(audit, dict) else audit)]
    assert "export" in actions and "erase" in actions  # as the CLI's

    transcript = client.get(f"/ui/sessions/{session_id}", headers=FR).text
    text = assert_french_only(transcript)
    assert "Voix 2" in text and "français" in text  # the unnamed voice; the language by its name
    assert "L'audio de cette séance n'est pas conservé : seule sa transcription l'est." in text
    english = shown(client.get(f"/ui/sessions/{session_id}?lang=en").text)
    assert "Voice 2" in english and "French" in english
    api = client.get(f"/sessions/{session_id}/transcript", headers={"X-API-Key": KEY}).json()
    assert "SPEAKER_01" in str(api)  # the API keeps the labels


def test_a_refused_enrolment_keeps_the_consent_box_ticked(client):
    refused = client.post("/ui/speakers", data={"name": "Armelle", "consent": "true"},
                          files={"audio": ("notes.txt", b"pas de l'audio")},
                          headers={**FR, "Origin": "http://127.0.0.1", "Referer": "http://127.0.0.1/ui/speakers"})
    assert "n'est pas un fichier audio" in shown(refused.text)
    assert re.search(r'id="new-consent"\s+checked', refused.text), "the ticked box came back unticked"
    assert 'value="Armelle"' in refused.text
