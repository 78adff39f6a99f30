"""Fetch audio into a local temporary file: a path, an http(s) URL or base64 bytes.

Downloads are guarded against server-side request forgery: only http/https, the host is resolved
once and every address is checked (no loopback, private, link-local, multicast or reserved address
unless the allow-list names it), the connection goes to the checked address (no second lookup a
DNS rebinding could change), redirects are followed by hand and checked the same way, and the body
is capped in size and time.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import http.client
import ipaddress
import os
import re
import socket
import ssl
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional
from urllib.parse import urljoin, urlsplit

from hearback.errors import FetchError, InputError
from hearback.settings import Settings

MAX_REDIRECTS = 5
TEMP_PREFIX = "hearback-"  # of every temporary file: errors name the user's input instead (`shown_to_user`)
TEMP_NAME = re.compile(r"(?:/[^\s:'\"]*/)?" + TEMP_PREFIX + r"[A-Za-z0-9_]+\.[A-Za-z0-9]+")
CHUNK = 256 * 1024
# IPv6 forms that carry an IPv4 address in their last 32 bits (and are "global" to `ipaddress`).
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local-use translation, never public
TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 IPv4-translated
ISATAP = 0x00005EFE  # RFC 5214 interface identifier ::0:5efe:a.b.c.d (also 200:5efe, the u/l bit set)


@dataclass
class FetchedAudio:
    path: Path
    source: str
    size: int


@contextlib.contextmanager
def fetched(
    source: str | Path,
    settings: Settings,
    progress: Optional[Callable[[float], None]] = None,
) -> Iterator[FetchedAudio]:
    """Yield a local file for `source` (path or URL); a downloaded file is removed on exit."""
    text = str(source)
    if _is_url(text):
        with downloaded(text, settings, progress) as audio:
            yield audio
        return
    path = Path(text).expanduser()
    if not path.exists():
        raise InputError(f"audio file not found: {text}", "file_not_found", file=text)
    if not path.is_file():
        raise InputError(f"not a file: {text}", "file_not_found", file=text)
    size = path.stat().st_size
    if size > settings.max_bytes:
        raise InputError(f"audio file is {size} bytes, over the limit of {settings.max_bytes} (HEARBACK_MAX_BYTES)",
                         "file_too_large", limit=settings.max_bytes)
    yield FetchedAudio(path, text, size)


@contextlib.contextmanager
def downloaded(url: str, settings: Settings,
               progress: Optional[Callable[[float], None]] = None) -> Iterator[FetchedAudio]:
    """Yield a temporary local copy of an http(s) `url` (never a local path); removed on exit."""
    _check_url(url)
    with _temp_path(suffix=_suffix_of(urlsplit(url).path)) as path:
        size = download(url, path, settings, progress)
        yield FetchedAudio(path, url, size)


def shown_to_user(message: str, shown: str) -> str:
    """`message` with every temporary file's name (or path) replaced by `shown`, what the user gave:
    a user never knew the temporary file, and its name tells them nothing."""
    return TEMP_NAME.sub(lambda _: shown, message)


def input_name(url: str) -> str:
    """How an error names an audio_url: without its query (a presigned URL's signature stays out)."""
    return url.split("?", 1)[0].split("#", 1)[0]


@contextlib.contextmanager
def base64_audio(data: str, settings: Settings) -> Iterator[FetchedAudio]:
    """Decode base64 audio into a temporary file, removed on exit."""
    if len(data) * 3 // 4 > settings.max_bytes:
        raise FetchError(f"audio_base64 is over the size limit of {settings.max_bytes} bytes", "file_too_large",
                         limit=settings.max_bytes)
    if "," in data[:100] and data.startswith("data:"):
        data = data.split(",", 1)[1]  # a data: URL
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("audio_base64 is not valid base64: send the file's bytes encoded with standard base64",
                         "bad_base64") from None
    if not raw:
        raise InputError("audio_base64 is empty", "upload_empty")
    with _temp_path(suffix=".audio") as path:
        path.write_bytes(raw)
        yield FetchedAudio(path, "base64", len(raw))


def download(url: str, dest: Path, settings: Settings, progress: Optional[Callable[[float], None]] = None) -> int:
    """Download `url` to `dest` with the SSRF checks, size cap and time-out; return the size."""
    deadline = time.monotonic() + settings.download_timeout
    for _ in range(MAX_REDIRECTS + 1):
        parts = _check_url(url)
        address = resolve_allowed(parts.hostname or "", parts.port or _default_port(parts.scheme), settings)
        conn = _connection(parts.scheme, parts.hostname or "", address, parts.port, _remaining(deadline, url))
        try:
            target = parts.path or "/"
            if parts.query:
                target += "?" + parts.query
            conn.request("GET", target, headers={"User-Agent": "hearback", "Accept": "*/*"})
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"{_safe(url)} redirected without a location", "download_failed", url=_safe(url))
                url = urljoin(url, location)
                continue
            if response.status != 200:
                if response.status == 403 and ("X-Amz-Signature" in url or "Signature=" in url):
                    raise FetchError(f"the presigned URL {_safe(url)} was refused (HTTP 403): it has probably "
                                     "expired; ask for a new one", "presigned_expired")
                raise FetchError(f"download of {_safe(url)} failed: HTTP {response.status} {response.reason}",
                                 "download_refused", url=_safe(url), status=response.status)
            return _save_body(response, dest, settings, deadline, url, progress)
        except (socket.timeout, TimeoutError):
            raise FetchError(f"download of {_safe(url)} timed out after {settings.download_timeout:g} s",
                             "download_timeout", url=_safe(url)) from None
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"download of {_safe(url)} failed: {exc}", "download_failed", url=_safe(url)) from None
        finally:
            conn.close()
    raise FetchError(f"{_safe(url)} redirected more than {MAX_REDIRECTS} times", "download_failed", url=_safe(url))


def resolve_allowed(host: str, port: int, settings: Settings) -> str:
    """Resolve `host` and return an address to connect to, refusing non-public ones.

    Every address the name resolves to is checked: a name that resolves to both a public and a
    private address is refused, so it cannot be used to reach the private one.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror}", "host_unknown", host=host) from None
    addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise FetchError(f"cannot resolve host {host!r}", "host_unknown", host=host)
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not is_public(ip) and not _allowed(host, ip, settings.url_allowlist):
            raise FetchError(
                f"refusing to download from {host} ({ip}): private, loopback or reserved addresses are blocked; "
                "add the host to HEARBACK_URL_ALLOWLIST if this is intended", "address_refused", host=host
            )
    return addresses[0]


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global address that does not carry a non-global IPv4 address inside it (NAT64, 6to4,
    Teredo, ISATAP, IPv4-mapped or -compatible forms reach the IPv4 address through a gateway)."""
    if not ip.is_global:
        return False
    if ip.version == 6 and (ip in LOCAL_NAT64 or any(not inner.is_global for inner in embedded_ipv4(ip))):
        return False
    return True


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for, in every form that embeds one."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    found = [inner for inner in (ip.ipv4_mapped, ip.sixtofour) if inner is not None]
    if ip.teredo:
        found += list(ip.teredo)  # (server, client)
    if int(ip) >> 32 == 0 or ip in NAT64 or ip in TRANSLATED or (int(ip) >> 32) & 0xFDFFFFFF == ISATAP:
        found.append(low32)
    return found


def within_allowlist(host: str, allowlist: tuple[str, ...]) -> bool:
    """Whether `host` is named in `allowlist`, or every address it resolves to lies in one of its
    ranges (one address outside is enough to refuse it, as in `resolve_allowed`)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return any(entry.lower() == host.lower() for entry in allowlist)
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    return bool(addresses) and all(_allowed(host, ip, allowlist) for ip in addresses)


def _allowed(host: str, ip: ipaddress._BaseAddress, allowlist: tuple[str, ...]) -> bool:
    for entry in allowlist:
        if entry.lower() == host.lower():
            return True
        with contextlib.suppress(ValueError):
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
    return False


def _check_url(url: str):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {parts.scheme!r}: use http or https", "bad_audio_url")
    if not parts.hostname:
        raise FetchError(f"URL has no host: {url!r}", "bad_audio_url")
    if parts.username or parts.password:
        raise FetchError("URLs with credentials are not accepted", "url_credentials")
    return parts


def _connection(scheme: str, host: str, address: str, port: Optional[int], timeout: float):
    if scheme == "https":
        return _PinnedHTTPSConnection(host, address, port or 443, timeout=timeout,
                                      context=ssl.create_default_context())
    return _PinnedHTTPConnection(host, address, port or 80, timeout=timeout)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a pre-checked address while sending the original Host header."""

    def __init__(self, host: str, address: str, port: int, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, port: int, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def _save_body(response, dest: Path, settings: Settings, deadline: float, url: str,
               progress: Optional[Callable[[float], None]]) -> int:
    declared = response.getheader("Content-Length")
    total = int(declared) if declared and declared.isdigit() else 0
    if total > settings.max_bytes:
        raise FetchError(f"{_safe(url)} is {total} bytes, over the limit of {settings.max_bytes} (HEARBACK_MAX_BYTES)",
                         "file_too_large", limit=settings.max_bytes)
    size = 0
    with open(dest, "wb") as out:
        while True:
            if time.monotonic() > deadline:
                raise FetchError(f"download of {_safe(url)} timed out after {settings.download_timeout:g} s",
                                 "download_timeout", url=_safe(url))
            chunk = response.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > settings.max_bytes:
                raise FetchError(f"{_safe(url)} is over the limit of {settings.max_bytes} bytes (HEARBACK_MAX_BYTES)",
                                 "file_too_large", limit=settings.max_bytes)
            out.write(chunk)
            if progress and total:
                progress(min(1.0, size / total))
    if size == 0:
        raise FetchError(f"{_safe(url)} returned an empty body", "download_empty", url=_safe(url))
    return size


@contextlib.contextmanager
def _temp_path(suffix: str) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _is_url(text: str) -> bool:
    return "://" in text[:16]


def _suffix_of(path: str) -> str:
    suffix = Path(path).suffix
    return suffix if 1 < len(suffix) <= 6 else ".audio"


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _remaining(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"download of {_safe(url)} timed out", "download_timeout", url=_safe(url))
    return left


def _safe(url: str) -> str:
    """The URL without its query string, which may carry a signature."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
