"""A summary as Markdown, with headings in its own language (French or English)."""

from __future__ import annotations

from hearback.summary.schema import Summary

HEADINGS = {
    "fr": {"title": "Résumé", "recap": "Récapitulatif pour les joueurs", "decisions": "Décisions",
           "actions": "Actions", "questions": "Questions ouvertes", "due": "pour le", "at": "à", "none": "aucune"},
    "en": {"title": "Summary", "recap": "Recap for the players", "decisions": "Decisions",
           "actions": "Action items", "questions": "Open questions", "due": "due", "at": "at", "none": "none"},
}


def clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def render(summary: Summary) -> str:
    h = HEADINGS.get(summary.language, HEADINGS["en"])
    out = [f"## {h['title']}", "", summary.summary.strip(), ""]
    if summary.recap:
        out += [f"## {h['recap']}", "", summary.recap.strip(), ""]
    out += [f"## {h['decisions']}", "", *_bullets(summary.decisions, h["none"]), ""]
    actions = [f"- **{item.owner}**: {item.task}" + (f" ({h['due']} {item.due})" if item.due else "")
               + f" [{h['at']} {clock(item.quote_start)}]" for item in summary.action_items]
    out += [f"## {h['actions']}", "", *(actions or [f"- {h['none']}"]), ""]
    out += [f"## {h['questions']}", "", *_bullets(summary.open_questions, h["none"])]
    return "\n".join(out) + "\n"


def _bullets(items: list[str], none: str) -> list[str]:
    return [f"- {item.strip()}" for item in items] or [f"- {none}"]
