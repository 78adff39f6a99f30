"""One chat completion from an OpenAI-compatible endpoint (`POST {HEARBACK_LLM_URL}/chat/completions`).

Every way the endpoint can let us down becomes a `SummaryError` saying which, so a summary that
fails tells its reader why (down, slow, refusing) and never leaks a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import httpx

from hearback.errors import ConfigError, SummaryError
from hearback.settings import Settings

log = logging.getLogger(__name__)
JSON_MODES = ("json_schema", "json_object_schema", "json_object", "none")
BODY_CHARS = 300  # of an error answer kept in the message
CONNECT_SECONDS = 10.0


@dataclass(frozen=True)
class Reply:
    text: str
    truncated: bool  # the model ran out of tokens: its JSON is cut short
    model: str


def endpoint(settings: Settings) -> str:
    """The chat completions URL: HEARBACK_LLM_URL may be the API's base (`.../v1`) or the full URL."""
    url = settings.llm_url.strip().rstrip("/")
    if not url:
        raise ConfigError("no language model endpoint is configured: set HEARBACK_LLM_URL (an OpenAI-compatible "
                          "API such as http://127.0.0.1:8080/v1) to make summaries", "summary_unavailable")
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigError(f"HEARBACK_LLM_URL={url!r} is not an http(s) URL")
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


def check(settings: Settings) -> None:
    """Refuse settings that could never give a summary, before any work is done."""
    endpoint(settings)
    if settings.llm_json_mode not in JSON_MODES:
        raise ConfigError(f"HEARBACK_LLM_JSON_MODE={settings.llm_json_mode!r}: use one of {', '.join(JSON_MODES)}")


class ChatClient:
    def __init__(self, settings: Settings):
        check(settings)
        self.settings, self.url = settings, endpoint(settings)
        headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
        timeout = httpx.Timeout(settings.llm_timeout, connect=min(CONNECT_SECONDS, settings.llm_timeout))
        self.http = httpx.Client(headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], name: str) -> Reply:
        body: dict[str, Any] = {"messages": messages, "temperature": 0, "max_tokens": self.settings.llm_max_tokens}
        if self.settings.llm_model:
            body["model"] = self.settings.llm_model
        if self.settings.llm_json_mode != "none":
            body["response_format"] = _response_format(self.settings.llm_json_mode, schema, name)
        try:
            response = self.http.post(self.url, json=body)
        except httpx.TimeoutException:
            raise SummaryError(f"the language model did not answer within {self.settings.llm_timeout:g} s "
                               "(HEARBACK_LLM_TIMEOUT)", "llm_timeout", seconds=self.settings.llm_timeout) from None
        except httpx.ConnectError as exc:
            raise SummaryError(f"the language model endpoint {self.url} cannot be reached ({exc}): is it running?",
                               "llm_unreachable") from None
        except httpx.HTTPError as exc:
            raise SummaryError(f"the connection to the language model endpoint broke off ({type(exc).__name__}): "
                               "it may have stopped", "llm_unreachable") from None
        return _reply(response)


def _response_format(mode: str, schema: dict[str, Any], name: str) -> dict[str, Any]:
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_object"}


def _reply(response: httpx.Response) -> Reply:
    if response.status_code >= 400:
        text = " ".join(response.text.split())[:BODY_CHARS]
        hint = " (the piece did not fit: lower HEARBACK_LLM_CONTEXT to the model's context)" if "context" in text else ""
        raise SummaryError(f"the language model endpoint answered HTTP {response.status_code}: {text}{hint}",
                           "llm_refused", status=response.status_code)
    try:
        data = response.json()
        choice = data["choices"][0]
        text = choice["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError):
        raise SummaryError("the language model endpoint's answer is not an OpenAI chat completion: "
                           f"{' '.join(response.text.split())[:BODY_CHARS]}", "llm_invalid_output") from None
    model = PurePath(str(data.get("model") or "")).name
    return Reply(text, choice.get("finish_reason") == "length", model)
