"""The web page's words in French and English (`api/locales/*.json`); the language comes from a
cookie or the browser."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import Request

LANGUAGE_COOKIE = "hearback_lang"

LOCALES = Path(__file__).with_name("locales")  # one file per language: translators edit only these


def _locale(lang: str) -> dict:
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


TEXT = {lang: _locale(lang) for lang in ("en", "fr")}
# What a job is doing (`hearback.progress.Stage` values), as the job page says it.
STAGES = {lang: words.pop("stages") for lang, words in TEXT.items()}


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


def _participants_not_named(details: dict) -> str:
    def said(p: dict) -> str:
        who, closest, score = p.get("name") or p.get("speaker_id"), p.get("shown") or p.get("closest"), p.get("score")
        if p.get("rival"):
            return (f"{who} ({closest} y ressemblait à {_FrenchNumber(score):.2f}, mais une autre voix enregistrée "
                    "en est aussi proche)")
        return f"{who} (le plus proche : {closest}, score {_FrenchNumber(score):.2f})" if closest else str(who)

    threshold = details.get("threshold")
    bar = f", il faut {_FrenchNumber(threshold):.2f} pour un nom" if threshold is not None else ""
    people = " ; ".join(map(said, details["participants"]))
    return (f"{len(details['participants'])} participant(s) non reconnu(s) : {people}{bar}. Ils n'ont peut-être pas "
            "parlé, ou leur voix sonne autrement ici (ligne téléphonique, compression, autre langue) : enregistrez "
            "leur voix depuis un enregistrement comme celui-ci, ou baissez le seuil des participants.")


FRENCH_PROBLEMS = {
    "untranscribed_speech": "{seconds:.0f} s de parole n'ont pas pu être transcrites (voir quality.untranscribed).",
    "several_languages": _languages_heard,
    "other_language": _other_language,
    "participants_not_named": _participants_not_named,
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
    "name_too_long": "Un nom fait au plus {limit} caractères.",
    "too_long": "Le champ « {field} » fait au plus {limit} caractères.",
    "notes_too_long": "Les notes font au plus {limit} caractères.",
    "merge_self": "Impossible de fusionner une voix avec elle-même.",
    "speaker_not_found": "Cette voix n'existe pas (ou plus).",
    "session_not_found": "Cette séance n'existe pas (ou plus).",
    "job_not_found": "Cette transcription n'existe pas (ou plus).",
    "cluster_not_found": "Cette séance n'a pas de locuteur {label}.",
    "cluster_voice_erased": "La voix du locuteur {label} a été effacée à la demande de la personne : elle ne peut plus "
                            "devenir une empreinte vocale ; enregistrez la personne à partir d'un nouvel échantillon, "
                            "avec son consentement.",
    "s3_outside_uploads": "Cet objet n'est pas un envoi : l'audio s3:// d'une transcription doit se trouver directement "
                          "sous {prefix} (obtenez-en un par POST /uploads).",
    "s3_other_job": "Cet objet est l'audio d'une autre transcription : envoyez le fichier à nouveau (POST /uploads).",
    "webhook_not_allowed": "L'adresse de webhook {host} n'est pas dans HEARBACK_WEBHOOK_ALLOWLIST : donnez un récepteur "
                           "qu'elle autorise, ou demandez à l'administrateur de l'ajouter.",
    "bad_audio_url": "L'URL de l'audio doit être une URL http(s) ou s3://bucket/clé.",
    "sample_too_long": "L'extrait dépasse {limit:g} s : quelques minutes de cette seule personne suffisent.",
    "control_character": "Le champ « {field} » contient un caractère de contrôle : retirez-le.",
    "too_many_logins": "Trop d'essais : réessayez dans une minute.",
    "too_many_keys": "Trop de clés erronées depuis cette adresse : réessayez dans une minute.",
    "scope_missing": "Cette clé n'a pas le droit « {scope} » que demande cette action : demandez une clé qui l'a.",
    "unknown_scope": "Les droits d'une clé sont read, write, biometric et admin, séparés par des virgules.",
    "bad_key_name": "Le nom d'une clé : 1 à 100 lettres, chiffres, « . », « _ », « @ » ou « - » (pas HEARBACK_API_KEY).",
    "duplicate_key": "Une clé porte déjà ce nom (une clé révoquée garde le sien) : choisissez-en un autre.",
    "key_not_found": "Aucune clé de ce nom ou de cet identifiant.",
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
    "group_name_too_long": "Un nom de groupe fait au plus {limit} caractères.",
    "not_a_member": "« {name} » ne fait pas partie du groupe « {group} ».",
    "file_not_found": "Le fichier audio {file} est introuvable.",
    "bad_base64": "L'audio en base64 n'est pas du base64 valide.",
    "host_unknown": "L'adresse de l'audio est introuvable : le serveur « {host} » n'existe pas ou ne répond pas. "
                    "Vérifiez l'URL.",
    "address_refused": "Le serveur « {host} » est une adresse privée ou locale : le téléchargement est refusé.",
    "download_refused": "Le serveur de l'audio a refusé le téléchargement (HTTP {status}). Vérifiez l'URL.",
    "download_failed": "Le téléchargement de l'audio a échoué. Vérifiez l'URL, ou envoyez le fichier.",
    "download_timeout": "Le téléchargement de l'audio a pris trop de temps. Réessayez, ou envoyez le fichier.",
    "download_empty": "L'adresse de l'audio a renvoyé un fichier vide.",
    "presigned_expired": "Le lien signé de l'audio a été refusé : il a sans doute expiré ; demandez-en un nouveau.",
    "url_credentials": "Une URL d'audio ne peut pas contenir d'identifiant ni de mot de passe.",
    "unknown_format": "Format de téléchargement inconnu « {format} » : choisissez parmi {formats}.",
    "s3_not_configured": "L'audio s3:// demande un stockage S3, que ce service n'a pas.",
    "upload_gone": "L'audio envoyé pour cette transcription n'existe plus : envoyez-le à nouveau.",
    "runpod_inline_limit": "Ce fichier est trop gros pour être envoyé tel quel au service de transcription distant : "
                           "donnez plutôt une URL.",
    "runpod_failed": "Le service de transcription distant (RunPod) a échoué.",
    "service_misconfigured": "Le service est mal configuré (un réglage ou un modèle manque) : son administrateur "
                             "trouvera la cause dans les détails.",
    "embedder_mismatch": "Ces empreintes viennent d'un autre modèle de voix ({model}) que celui du service "
                         "({embedder}) : elles ne peuvent pas être comparées ; réenregistrez les voix avec ce modèle.",
    "embedding_size": "Une empreinte de {size} valeurs ne vient pas de ce modèle de voix ({dim} valeurs).",
    "bad_embedding": "Une empreinte vocale doit être un vecteur de nombres finis, non nul.",
    "one_audio": "Envoyez soit un fichier, soit l'adresse d'un audio, pas les deux.",
    "bad_webhook_url": "L'adresse du webhook doit être une URL http(s).",
    "s3_other_bucket": "Cet audio s3:// n'est pas dans le stockage de ce service ({bucket}).",
    "s3_unreadable": "L'audio n'a pas pu être lu dans le stockage S3 du service : réessayez, ou envoyez le fichier "
                     "de nouveau.",
    "no_such_channel": "{file} n'a que {channels} canal(aux) : le canal {channel} n'existe pas.",
    "speaker_or_name": "Choisissez une voix existante ou donnez un nouveau nom, pas les deux.",
    "bad_consent_method": "Manière de consentir inconnue : choisissez parmi {methods}.",
}

# Codes whose French words leave out what only a technician reads (a system's message, an address):
# the original text follows, folded, under "détails".
FOLDED = {"host_unknown", "download_refused", "download_failed", "download_timeout", "runpod_failed",
          "internal_error", "llm_refused", "s3_unreadable", "service_misconfigured"}
UNKNOWN_PROBLEM = {"fr": "L'opération a échoué.", "en": ""}  # a problem without French words


def worded(problem, lang: str) -> tuple[str, str]:
    """(what the reader is told, in the page's language; the original text for a "details" fold,
    or "" when the first says it all). A problem with no words in the page's language is never
    shown raw outside the fold: a French page says, in French, that it failed."""
    text = say(problem, lang)
    if lang == "en":
        return text, ""
    raw = str(problem)
    if text == raw:  # no French words for it
        return UNKNOWN_PROBLEM[lang], raw
    return text, raw if getattr(problem, "code", "") in FOLDED else ""


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
