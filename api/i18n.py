"""The web page's words in French and English; the language comes from a cookie or the browser."""

from __future__ import annotations

from fastapi import Request

TEXT = {
    "en": {
        "speakers": "Speakers", "sessions": "Sessions", "search": "Search", "logout": "Log out",
        "login": "Log in", "api_key": "API key", "wrong_key": "Wrong API key.",
        "name": "Name", "voiceprints": "Voiceprints", "talk_time": "Talk time", "actions": "Actions",
        "new_speaker": "Enrol a new voice", "sample": "Voice sample (5 s or more of this person alone)",
        "or_record": "or record it here", "record": "Record", "stop": "Stop", "enrol": "Enrol",
        "rename": "Rename", "merge_into": "Merge into", "merge": "Merge", "delete": "Delete",
        "confirm_delete": "Delete this speaker and its voiceprints? Their lines become unknown.",
        "confirm_merge": "Merge these two speakers into one?",
        "add_sample": "Add a sample", "no_speakers": "No voice enrolled yet.",
        "new_transcription": "Transcribe a recording", "file": "File", "or_url": "or a URL",
        "title": "Title", "tag": "Tag (campaign, meeting series)", "language": "Language", "auto": "detect",
        "start": "Start", "date": "Date", "duration": "Duration", "status": "Status", "all_tags": "all tags",
        "filter": "Filter", "no_sessions": "No recording yet.", "progress": "Transcribing",
        "failed": "The transcription failed", "download": "Download", "name_cluster": "Who is it?",
        "new_person": "new person", "save": "Save", "unknown": "unknown", "query": "Words to look for",
        "speaker": "Speaker", "no_results": "Nothing found.", "results": "results",
        "audio_gone": "The audio of this session is not kept (HEARBACK_AUDIO_RETENTION_HOURS).",
        "play_hint": "Click a line to hear it.", "enrolled": "Voice enrolled.", "renamed": "Renamed.",
        "merged": "Merged.", "deleted": "Deleted.", "named": "Named; the transcript is updated.",
        "empty_name": "Give a name.", "choose_file": "Choose an audio file, or record one.",
        "give_audio": "Give a file or a URL.",
    },
    "fr": {
        "speakers": "Voix", "sessions": "Séances", "search": "Recherche", "logout": "Se déconnecter",
        "login": "Se connecter", "api_key": "Clé d'API", "wrong_key": "Clé d'API incorrecte.",
        "name": "Nom", "voiceprints": "Empreintes", "talk_time": "Temps de parole", "actions": "Actions",
        "new_speaker": "Enregistrer une nouvelle voix", "sample": "Extrait de voix (5 s ou plus de cette personne seule)",
        "or_record": "ou l'enregistrer ici", "record": "Enregistrer", "stop": "Arrêter", "enrol": "Ajouter",
        "rename": "Renommer", "merge_into": "Fusionner avec", "merge": "Fusionner", "delete": "Supprimer",
        "confirm_delete": "Supprimer cette voix et ses empreintes ? Ses répliques deviendront inconnues.",
        "confirm_merge": "Fusionner ces deux voix en une seule ?",
        "add_sample": "Ajouter un extrait", "no_speakers": "Aucune voix enregistrée pour l'instant.",
        "new_transcription": "Transcrire un enregistrement", "file": "Fichier", "or_url": "ou une URL",
        "title": "Titre", "tag": "Étiquette (campagne, série de réunions)", "language": "Langue", "auto": "détecter",
        "start": "Lancer", "date": "Date", "duration": "Durée", "status": "État", "all_tags": "toutes les étiquettes",
        "filter": "Filtrer", "no_sessions": "Aucun enregistrement pour l'instant.", "progress": "Transcription en cours",
        "failed": "La transcription a échoué", "download": "Télécharger", "name_cluster": "Qui est-ce ?",
        "new_person": "nouvelle personne", "save": "Enregistrer", "unknown": "inconnu", "query": "Mots à chercher",
        "speaker": "Voix", "no_results": "Rien trouvé.", "results": "résultats",
        "audio_gone": "L'audio de cette séance n'est pas conservé (HEARBACK_AUDIO_RETENTION_HOURS).",
        "play_hint": "Cliquez sur une ligne pour l'écouter.", "enrolled": "Voix enregistrée.", "renamed": "Renommé.",
        "merged": "Fusionné.", "deleted": "Supprimé.", "named": "Nommé ; la transcription est à jour.",
        "empty_name": "Donnez un nom.", "choose_file": "Choisissez un fichier audio, ou enregistrez-en un.",
        "give_audio": "Donnez un fichier ou une URL.",
    },
}


def language_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get("hearback_lang")
    if chosen in TEXT:
        return chosen
    accept = request.headers.get("accept-language", "").lower()
    return "fr" if accept.startswith("fr") else "en"
