"""The web page's words in French and English; the language comes from a cookie or the browser."""

from __future__ import annotations

from fastapi import Request

from hearback.progress import Stage

LANGUAGE_COOKIE = "hearback_lang"

TEXT = {
    "en": {
        "speakers": "Speakers", "sessions": "Sessions", "search": "Search", "logout": "Log out",
        "login": "Log in", "api_key": "API key", "wrong_key": "Wrong API key.",
        "name": "Name", "voiceprints": "Voiceprints", "talk_time": "Talk time", "actions": "Actions",
        "new_speaker": "Enrol a new voice", "sample": "Voice sample (3 s or more of this person alone; 10 s or more is better)",
        "or_record": "or record it here", "record": "Record with the microphone", "stop": "Stop", "enrol": "Enrol",
        "rename": "Rename", "merge": "Merge", "delete": "Delete",
        "confirm_delete": "Delete this speaker and its voiceprints? Their lines become unknown.",
        "add_sample": "Add a sample", "no_speakers": "No voice enrolled yet.",
        "new_transcription": "Transcribe a recording", "file": "File", "or_url": "or a URL",
        "title": "Title", "tag": "Tag (campaign, meeting series)", "language": "Language", "auto": "detect",
        "start": "Start", "date": "Date", "duration": "Duration", "status": "Status", "all_tags": "all tags",
        "filter": "Filter", "no_sessions": "No recording yet.", "progress": "Transcribing",
        "failed": "The transcription failed", "download": "Download", "name_cluster": "Who is it?",
        "new_person": "new person", "save": "Name this voice", "unknown": "unknown", "query": "Words to look for",
        "speaker": "Speaker", "no_results": "Nothing found.", "results": "results",
        "people": "People", "their_lines": "their lines",
        "audio_gone": "The audio of this session is not kept (HEARBACK_AUDIO_RETENTION_HOURS).",
        "play_hint": "Click a line (or Tab to its time and press Enter) to hear it.", "enrolled": "Voice enrolled.", "renamed": "Renamed.",
        "merged": "Merged.", "merged_into": "Merged: {name} stays, with both voices' prints and lines.", "deleted": "Deleted.", "named": "Named; the transcript is updated.",
        "empty_name": "Give a name.", "choose_file": "Choose an audio file, or record one.",
        "give_audio": "Give a file or a URL.",
        "summary": "Summary", "summarize": "Summarize", "ask_again": "Ask again", "decisions": "Decisions",
        "action_items": "Action items", "open_questions": "Open questions", "recap": "Recap for the players",
        "due": "due", "none": "none", "summary_asked": "Summary asked for: it is being written.",
        "summary_pending": "The summary is being written; reload the page in a moment.",
        "summary_failed": "The summary failed", "summary_by": "written by",
        "consent": "This person consents to their voice being stored and recognised in recordings "
                   "(a voiceprint is biometric data; they can ask for it to be exported or erased).",
        "consent_short": "they consent", "needs_reenrolment": "needs re-enrolment",
        "stale_hint": "Some voiceprints were made by another model: they are not used until re-embedded "
                      "(hearback speakers reembed) or enrolled again.",
        "not_matched": "Not recognised in recordings until their consent is recorded.",
        "consent_unknown": "consent not recorded", "consent_withdrawn": "erased", "consent_none": "no consent",
        "record_mic": "Record with the microphone", "recording": "recording", "level": "Microphone level",
        "no_microphone": "Recording needs a secure page (https:// or localhost): this page was opened over "
                         "plain http, so the browser gives it no microphone. Upload a file instead, or open the "
                         "service through https.",
        "microphone_refused": "The browser refused the microphone: allow it in the address bar, or upload a file.",
        "no_recorder": "This browser cannot record audio here: upload a file instead.",
        "save_name": "Name this voice", "all_voices": "all voices", "choose_speaker": "Existing voice",
        "merge_into": "Merge into (this voice stays)",
        "confirm_merge": "Merge {source} into {target}? {target} stays, with the voiceprints and lines of both; "
                         "the name {source} disappears.",
        "warning_title": "Done, with a warning:", "failed_title": "The transcription failed",
        "progress_title": "Transcribing", "time_left": "about {s} left", "back_to_sessions": "Back to sessions",
        "open_progress": "See progress", "session_running": "This recording is still being transcribed.",
        "session_failed": "This recording could not be transcribed.", "no_transcript": "No transcript.",
        "delete_session": "Delete", "confirm_delete_session": "Delete this session, its transcript and its audio? "
                                                              "This cannot be undone.",
        "session_deleted": "Session deleted.", "since": "From", "until": "To", "tag_filter": "Tag",
        "not_found": "This page does not exist.", "go_home": "Go to the speakers' page",
        "bad_form": "Some fields of the form were missing or wrong; check them and send it again.",
        "bad_date": "A date should read YYYY-MM-DD.", "play_at": "Play from {t}", "speaker_of_line": "speaker",
        "state_queued": "waiting", "state_pending": "waiting", "state_running": "transcribing",
        "state_done": "done", "state_failed": "failed", "hit_at": "at", "player": "The recording", "result": "result", "look_up": "Search",
        "too_large": "{file} is over the limit of {limit} bytes (HEARBACK_MAX_BYTES).",
        "groups": "Groups", "group": "Group", "no_group": "no group", "members": "Members",
        "new_group": "Create a group (a campaign's players, a team)",
        "members_hint": "Members: enrolled voices' names, separated by commas",
        "participants": "Participants", "participants_hint": "Who is expected: names of enrolled voices, separated by "
        "commas. Their voices decide who speaks; anyone else stays \"Voice 1\", \"Voice 2\"…",
        "group_hint": "or a group: its members are the participants", "create": "Create",
        "no_groups": "No group yet.", "no_members": "No member yet.", "group_created": "Group created.",
        "members_added": "Added.", "member_removed": "Removed from the group.", "group_deleted": "Group deleted.",
        "add_members": "Add members", "remove": "Remove", "delete_group": "Delete the group",
        "confirm_delete_group": "Delete this group? Its sessions stay, no longer filed under it.",
        "group_sessions": "Sessions", "what_said": "what they said", "absent": "absent",
    },
    "fr": {
        "speakers": "Voix", "sessions": "Séances", "search": "Recherche", "logout": "Se déconnecter",
        "login": "Se connecter", "api_key": "Clé d'API", "wrong_key": "Clé d'API incorrecte.",
        "name": "Nom", "voiceprints": "Empreintes", "talk_time": "Temps de parole", "actions": "Actions",
        "new_speaker": "Ajouter une nouvelle voix", "sample": "Extrait de voix (3 s ou plus de cette personne seule ; 10 s ou plus, c’est mieux)",
        "or_record": "ou l'enregistrer ici", "record": "Enregistrer au micro", "stop": "Arrêter", "enrol": "Ajouter",
        "rename": "Renommer", "merge": "Fusionner", "delete": "Supprimer",
        "confirm_delete": "Supprimer cette voix et ses empreintes ? Ses répliques deviendront inconnues.",
        "add_sample": "Ajouter un extrait", "no_speakers": "Aucune voix pour l'instant.",
        "new_transcription": "Transcrire un enregistrement", "file": "Fichier", "or_url": "ou une URL",
        "title": "Titre", "tag": "Étiquette (campagne, série de réunions)", "language": "Langue", "auto": "détecter",
        "start": "Lancer", "date": "Date", "duration": "Durée", "status": "État", "all_tags": "toutes les étiquettes",
        "filter": "Filtrer", "no_sessions": "Aucun enregistrement pour l'instant.", "progress": "Transcription en cours",
        "failed": "La transcription a échoué", "download": "Télécharger", "name_cluster": "Qui est-ce ?",
        "new_person": "nouvelle personne", "save": "Attribuer", "unknown": "inconnu", "query": "Mots à chercher",
        "speaker": "Voix", "no_results": "Rien trouvé.", "results": "résultats",
        "people": "Personnes", "their_lines": "ses interventions",
        "audio_gone": "L'audio de cette séance n'est pas conservé (HEARBACK_AUDIO_RETENTION_HOURS).",
        "play_hint": "Cliquez sur une ligne (ou Tab puis Entrée sur son heure) pour l'écouter.", "enrolled": "Voix ajoutée.", "renamed": "Renommé.",
        "merged": "Fusionné.", "merged_into": "Fusionné : {name} reste, avec les empreintes et répliques des deux.", "deleted": "Supprimé.", "named": "Nommé ; la transcription est à jour.",
        "empty_name": "Donnez un nom.", "choose_file": "Choisissez un fichier audio, ou enregistrez-en un.",
        "give_audio": "Donnez un fichier ou une URL.",
        "summary": "Résumé", "summarize": "Résumer", "ask_again": "Redemander", "decisions": "Décisions",
        "action_items": "Actions à faire", "open_questions": "Questions ouvertes",
        "recap": "Récapitulatif pour les joueurs", "due": "pour le", "none": "aucune",
        "summary_asked": "Résumé demandé : il est en cours de rédaction.",
        "summary_pending": "Le résumé est en cours de rédaction ; rechargez la page dans un moment.",
        "summary_failed": "Le résumé a échoué", "summary_by": "rédigé par",
        "consent": "Cette personne consent à ce que sa voix soit conservée et reconnue dans les enregistrements "
                   "(une empreinte vocale est une donnée biométrique ; elle peut en demander l'export ou l'effacement).",
        "consent_short": "elle consent", "needs_reenrolment": "à réenregistrer",
        "stale_hint": "Des empreintes ont été faites par un autre modèle : elles ne servent plus tant qu'elles ne sont "
                      "pas recalculées (hearback speakers reembed) ou enregistrées à nouveau.",
        "not_matched": "Pas reconnue dans les enregistrements tant que son consentement n'est pas enregistré.",
        "consent_unknown": "consentement non enregistré", "consent_withdrawn": "effacée",
        "consent_none": "sans consentement",
        "record_mic": "Enregistrer au micro", "recording": "enregistrement", "level": "Niveau du micro",
        "no_microphone": "L'enregistrement demande une page sécurisée (https:// ou localhost) : cette page est "
                         "ouverte en http simple, le navigateur ne lui donne donc pas le micro. Envoyez un fichier, "
                         "ou ouvrez le service en https.",
        "microphone_refused": "Le navigateur a refusé le micro : autorisez-le dans la barre d'adresse, ou envoyez "
                              "un fichier.",
        "no_recorder": "Ce navigateur ne sait pas enregistrer ici : envoyez un fichier.",
        "save_name": "Attribuer cette voix", "all_voices": "toutes les voix", "choose_speaker": "Voix existante",
        "merge_into": "Fusionner dans (cette voix reste)",
        "confirm_merge": "Fusionner {source} dans {target} ? {target} reste, avec les empreintes et les répliques "
                         "des deux ; le nom {source} disparaît.",
        "warning_title": "C'est fait, avec un avertissement :", "failed_title": "La transcription a échoué",
        "progress_title": "Transcription en cours", "time_left": "encore {s} environ",
        "back_to_sessions": "Retour aux séances", "open_progress": "Voir l'avancement",
        "session_running": "Cet enregistrement est en cours de transcription.",
        "session_failed": "Cet enregistrement n'a pas pu être transcrit.", "no_transcript": "Pas de transcription.",
        "delete_session": "Supprimer", "confirm_delete_session": "Supprimer cette séance, sa transcription et son "
                                                                 "audio ? C'est définitif.",
        "session_deleted": "Séance supprimée.", "since": "Du", "until": "Au", "tag_filter": "Étiquette",
        "not_found": "Cette page n'existe pas.", "go_home": "Aller à la page des voix",
        "bad_form": "Des champs du formulaire manquaient ou étaient faux : vérifiez-les et renvoyez-le.",
        "bad_date": "Une date s'écrit AAAA-MM-JJ.", "play_at": "Écouter à partir de {t}",
        "speaker_of_line": "voix",
        "state_queued": "en attente", "state_pending": "en attente", "state_running": "en cours",
        "state_done": "terminée", "state_failed": "échec", "hit_at": "à", "player": "L'enregistrement", "result": "résultat", "look_up": "Chercher",
        "too_large": "{file} dépasse la limite de {limit} octets (HEARBACK_MAX_BYTES).",
        "groups": "Groupes", "group": "Groupe", "no_group": "aucun groupe", "members": "Membres",
        "new_group": "Créer un groupe (les joueurs d'une campagne, une équipe)",
        "members_hint": "Membres : noms de voix enregistrées, séparés par des virgules",
        "participants": "Participants", "participants_hint": "Qui est attendu : noms de voix enregistrées, séparés "
        "par des virgules. Leurs voix décident qui parle ; toute autre personne reste « Voix 1 », « Voix 2 »…",
        "group_hint": "ou un groupe : ses membres sont les participants", "create": "Créer",
        "no_groups": "Aucun groupe pour l'instant.", "no_members": "Aucun membre pour l'instant.",
        "group_created": "Groupe créé.", "members_added": "Ajouté.", "member_removed": "Retiré du groupe.",
        "group_deleted": "Groupe supprimé.", "add_members": "Ajouter des membres", "remove": "Retirer",
        "delete_group": "Supprimer le groupe",
        "confirm_delete_group": "Supprimer ce groupe ? Ses séances restent, sans groupe.",
        "group_sessions": "Séances", "what_said": "ce qu'il ou elle a dit", "absent": "absent·e",
    },
}

# What a job is doing (`hearback.progress.Stage`), as the job page says it.
_STAGE_WORDS = {
    "en": {Stage.QUEUED: "waiting", Stage.STARTING: "starting", Stage.DOWNLOADING: "downloading the audio",
           Stage.DECODING: "decoding", Stage.TRANSCRIBING: "transcribing", Stage.DIARIZING: "telling voices apart",
           Stage.ASSIGNING: "assigning speakers", Stage.IDENTIFYING: "naming speakers",
           Stage.SUMMARIZING: "summarizing", Stage.STORING: "storing", Stage.REMOTE: "transcribing on RunPod",
           Stage.DONE: "done", Stage.FAILED: "failed"},
    "fr": {Stage.QUEUED: "en attente", Stage.STARTING: "démarrage", Stage.DOWNLOADING: "téléchargement de l'audio",
           Stage.DECODING: "décodage", Stage.TRANSCRIBING: "transcription", Stage.DIARIZING: "séparation des voix",
           Stage.ASSIGNING: "attribution des locuteurs", Stage.IDENTIFYING: "reconnaissance des voix",
           Stage.SUMMARIZING: "résumé", Stage.STORING: "enregistrement", Stage.REMOTE: "transcription sur RunPod",
           Stage.DONE: "terminé", Stage.FAILED: "échec"},
}
STAGES = {lang: {stage.value: word for stage, word in words.items()} for lang, words in _STAGE_WORDS.items()}


# Domain errors and warnings in French, by `code` (hearback.errors); what is not here stays English.
FRENCH_LANGUAGES = {"fr": "français", "en": "anglais", "de": "allemand", "es": "espagnol", "it": "italien",
                    "nl": "néerlandais", "pt": "portugais"}


def _language(code: str) -> str:
    return FRENCH_LANGUAGES.get(code, code)


def _languages_heard(details: dict) -> str:
    heard = ", ".join(f"{_language(lang)} ({share:.0%})".replace("%", " %")
                      for lang, share in zip(details["languages"], details["shares"]))
    return f"{len(details['languages'])} langues entendues : {heard}."


def _other_language(details: dict) -> str:
    return (f"{details['seconds']:.0f} s de parole étaient en {_language(details['language'])} alors que le "
            f"{_language(details['asked'])} était demandé : transcrites en {_language(details['language'])}.")


FRENCH_PROBLEMS = {
    "untranscribed_speech": "{seconds:.0f} s de parole n'ont pas pu être transcrites (voir quality.untranscribed).",
    "several_languages": _languages_heard,
    "other_language": _other_language,
    "bad_speaker_count": "{name} doit être un nombre entier de 1 à 20, et min_speakers au plus max_speakers.",
    "english_only_model": "Le modèle {model} ne connaît que l'anglais : choisissez la langue en ou auto, ou "
                          "WHISPER_MODEL=base pour le français.",
    "bad_language": "Langue inconnue « {language} » : choisissez fr, en ou auto.",
    "not_audio": "{file} n'est pas un fichier audio ou vidéo lisible ; formats acceptés : wav, mp3, m4a/aac, "
                 "opus, ogg, flac, aiff, webm, mp4 et la plupart des formats FFmpeg.",
    "empty_file": "{file} est vide (0 octet).",
    "upload_empty": "Le fichier envoyé est vide.",
    "undecodable": "Aucun son n'a pu être décodé de {file} : le fichier est vide ou abîmé.",
    "corrupt": "{file} est abîmé ou tronqué et n'a pas pu être décodé.",
    "no_audio_stream": "{file} ne contient pas de piste audio.",
    "audio_too_short": "L'audio dure {seconds:.2f} s ; il faut au moins {needed:g} s pour une transcription.",
    "audio_too_long": "L'audio dépasse la durée maximale de {limit:g} s (au moins {seconds:.0f} s) ; "
                      "découpez l'enregistrement ou augmentez HEARBACK_MAX_DURATION.",
    "file_too_large": "Le fichier dépasse la limite de {limit} octets (HEARBACK_MAX_BYTES).",
    "sample_too_short": "L'extrait contient {seconds:.1f} s de parole ; il en faut au moins {needed:g} s "
                        "d'une seule personne pour enregistrer sa voix.",
    "several_voices": "{voices} voix ont été entendues dans l'extrait ; l'empreinte est celle de la voix "
                      "dominante. Un extrait avec cette seule personne vaut mieux.",
    "duplicate_name": "Une voix nommée « {name} » existe déjà.",
    "name_missing": "Donnez un nom.",
    "name_too_long": "Un nom fait au plus 200 caractères.",
    "merge_self": "Impossible de fusionner une voix avec elle-même.",
    "speaker_not_found": "Cette voix n'existe pas (ou plus).",
    "session_not_found": "Cette séance n'existe pas (ou plus).",
    "job_not_found": "Cette transcription n'existe pas (ou plus).",
    "cluster_not_found": "Cette séance n'a pas de locuteur {label}.",
    "bad_audio_url": "L'URL de l'audio doit être une URL http(s) ou s3://bucket/clé.",
    "sample_too_long": "L'extrait dépasse {limit:g} s : quelques minutes de cette seule personne suffisent.",
    "control_character": "Le champ « {field} » contient un caractère de contrôle : retirez-le.",
    "too_many_logins": "Trop d'essais : réessayez dans une minute.",
    "summary_unavailable": "Aucun modèle de langue n'est configuré pour les résumés (HEARBACK_LLM_URL).",
    "summary_pending": "Un résumé de cette séance est déjà en cours de rédaction : attendez-le.",
    "transcript_not_ready": "Cette séance n'a pas encore de transcription terminée.",
    "summary_not_found": "Aucun résumé n'a été demandé pour cette séance.",
    "llm_unreachable": "Le modèle de langue est injoignable (arrêté, ou la connexion a été coupée) : "
                       "redemandez le résumé quand il est de nouveau en service.",
    "llm_timeout": "Le modèle de langue n'a pas répondu à temps (HEARBACK_LLM_TIMEOUT) : redemandez le résumé.",
    "llm_refused": "Le modèle de langue a refusé la demande : voyez le journal du service.",
    "llm_invalid_output": "Le modèle de langue a répondu deux fois sans le format demandé : redemandez le résumé, "
                          "ou utilisez un modèle plus grand.",
    "nothing_to_summarise": "La transcription ne contient aucun mot à résumer.",
    "consent_missing": "Une empreinte vocale est une donnée biométrique : cochez la case de consentement une fois "
                       "que la personne a accepté que sa voix soit conservée et reconnue.",
    "short_sample": "L'extrait ne contient que {seconds:.1f} s de parole : la voix est enregistrée, mais un extrait "
                    "de {advised:g} s ou plus (ou un second extrait) la reconnaîtra plus sûrement.",
    "not_a_backup": "Ce fichier n'est pas une sauvegarde de Hearback.",
    "database_not_empty": "La base contient déjà des voix ou des séances : restaurez dans une base vide.",
    "retention_off": "HEARBACK_SESSION_RETENTION_DAYS vaut 0 (tout garder) : donnez d'abord un nombre de jours.",
    "bad_date": "Une date s'écrit AAAA-MM-JJ (champ « {field} »).",
    "body_too_large": "La demande dépasse la taille permise : raccourcissez les champs du formulaire.",
    "internal_error": "Erreur interne du service ; son journal en donne le détail.",
    "session_running": "Cette séance est en cours de transcription : supprimez-la une fois sa transcription finie.",
    "unknown_participant": lambda d: "Aucune voix enregistrée ne s'appelle " + ", ".join(
        f"« {n} »" for n in d["names"]) + " : enregistrez-la d'abord, ou vérifiez l'orthographe.",
    "participant_without_consent": lambda d: "Pas de consentement enregistré pour " + ", ".join(
        f"« {n} »" for n in d["names"]) + " : sa voix ne peut pas être reconnue ; enregistrez-la de nouveau "
                                         "avec son accord.",
    "participant_not_enrolled": lambda d: ", ".join(f"« {n} »" for n in d["names"]) + " n'a pas d'empreinte vocale "
                                          "utilisable : enregistrez un extrait de sa voix.",
    "too_many_participants": "Au plus {limit} participants.",
    "duplicate_group": "Un groupe nommé « {name} » existe déjà.",
    "group_not_found": "Le groupe « {group} » n'existe pas (ou plus).",
    "group_name_missing": "Donnez un nom au groupe.",
    "group_name_too_long": "Un nom de groupe fait au plus 200 caractères.",
    "not_a_member": "« {name} » ne fait pas partie du groupe « {group} ».",
}


def say(problem, lang: str) -> str:
    """An error or notice from the domain, in the page's language when it is known there."""
    template = FRENCH_PROBLEMS.get(getattr(problem, "code", "")) if lang == "fr" else None
    if template is None:
        return str(problem)
    details = {k: _FrenchNumber(v) if isinstance(v, float) else v for k, v in problem.details.items()}
    try:
        return template(details) if callable(template) else template.format(**details)
    except (KeyError, ValueError, TypeError):
        return str(problem)


class _FrenchNumber(float):
    """A number written with a decimal comma, as French readers expect (1,8 s)."""

    def __format__(self, spec: str) -> str:
        return format(float(self), spec).replace(".", ",")


def language_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in TEXT:
        return chosen
    accept = request.headers.get("accept-language", "").lower()
    return "fr" if accept.startswith("fr") else "en"
