"""After the transcript: a summary, decisions, action items owned by speakers, open questions (and a
recap for a campaign's session), written by any OpenAI-compatible language model.

Nothing here knows HTTP frameworks, SQL or RunPod: a `Transcript` goes in, a `Summary` (or an
`Outcome` that says why there is none) comes out. Nothing is sent anywhere unless
HEARBACK_LLM_URL is set.
"""

from hearback.summary.grounding import Person
from hearback.summary.markdown import render as markdown
from hearback.summary.outcome import DONE, FAILED, Outcome, attempt
from hearback.summary.schema import ActionItem, Summary
from hearback.summary.summarize import SummaryContext, summarize

__all__ = ["ActionItem", "DONE", "FAILED", "Outcome", "Person", "Summary", "SummaryContext", "attempt", "markdown",
           "summarize"]
