"""Errors a user can act on.

Every failure that reaches a user (CLI, RunPod worker, HTTP service) is a `HearbackError` with a
one-line message saying what is wrong and what to do; anything else is a bug and is reported as an
internal error without a traceback.
"""

import unicodedata
from dataclasses import dataclass, field
from typing import Any


class HearbackError(Exception):
    """Base class: `str(error)` is the message shown to the user.

    `code` names the kind of problem and `details` its values, so that a page in another language
    (the web UI speaks French) can say the same thing in its own words; the English text stays
    the reference for logs, the CLI and the HTTP API.
    """

    def __init__(self, message: str, code: str = "", **details: Any):
        super().__init__(message)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Notice:
    """A warning worth showing (the work went on); translatable like `HearbackError`."""

    text: str
    code: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


class InputError(HearbackError):
    """The audio or the request is unusable (corrupt file, bad option, too long, ...)."""


class FetchError(InputError):
    """The audio could not be fetched (bad URL, refused address, too large, time-out)."""


class ConfigError(HearbackError):
    """A setting is invalid or a configured model cannot be loaded: the operator's to fix, so
    its code says so to a user who cannot (its words name the setting, for the operator)."""

    def __init__(self, message: str, code: str = "service_misconfigured", **details: Any):
        super().__init__(message, code, **details)


class NotFoundError(HearbackError):
    """A speaker, session or job that does not exist (in this workspace)."""


class ConflictError(HearbackError):
    """The change would break a rule of the data, such as two speakers with one name."""


def check_text(field: str, value: str, multiline: bool = False) -> str:
    """Refuse NUL and other control characters (newlines too, unless `multiline`) in what a user typed."""
    allowed = "\n\t" if multiline else ""
    bad = next((c for c in value if (ord(c) < 32 or 127 <= ord(c) < 160) and c not in allowed), None)
    if bad is not None:
        what = "a NUL byte" if bad == "\0" else f"the control character U+{ord(bad):04X}"
        raise InputError(f"{field} contains {what}: remove it and send it again", "control_character", field=field)
    return value


def check_length(field: str, value: str, limit: int, code: str = "too_long") -> str:
    """Refuse text longer than the column it goes to (`limit`), with a 422 naming the field, before
    the database does it with an error of its own (PostgreSQL: a 500)."""
    if len(value) > limit:
        raise InputError(f"{field} is at most {limit} characters", code, field=field, limit=limit)
    return value


def visible(text: str) -> str:
    """`text` in NFKC with the invisible format characters removed (zero-width spaces and joiners,
    bidi controls such as U+202E, soft hyphens: Unicode category Cf): what a reader sees is what is
    stored, so that two names that look the same are the same text."""
    return "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")


def check_name(owner: str, name: str | None, limit: int, code: str) -> str:
    """A name a user gave `owner` ("a speaker", "a group"), normalised (`visible`) and stripped:
    present (a name of invisible characters only is missing), short enough for its column
    (`limit`), with no control character; `code` prefixes the error codes."""
    name = check_text(f"{owner}'s name", visible(name or "").strip())
    if not name:
        raise InputError(f"{owner} needs a name", f"{code}_missing")
    return check_length(f"{owner}'s name", name, limit, f"{code}_too_long")


class SummaryError(HearbackError):
    """The language model gave no usable summary (endpoint down, too slow, or answering nonsense).
    The transcript it was asked about is never affected: the summary is marked failed."""
