"""Downloads over real HTTP on 127.0.0.1: SSRF guard, redirects, size cap, time-out, clean-up."""

import shutil

import pytest
from conftest import audio

from hearback.errors import FetchError, InputError
from hearback.fetch import base64_audio, fetched, resolve_allowed
from service.settings import Settings

LOOPBACK = Settings(url_allowlist=("127.0.0.1",))


@pytest.fixture(scope="module")
def served(http_root):
    root, base = http_root
    shutil.copy(audio("jfk.flac"), root / "jfk.flac")
    return base


def test_download_of_an_allowed_url_then_cleanup(served):
    with fetched(f"{served}/jfk.flac", LOOPBACK) as got:
        path = got.path
        assert got.size == audio("jfk.flac").stat().st_size
        assert path.read_bytes() == audio("jfk.flac").read_bytes()
    assert not path.exists()


def test_loopback_is_refused_without_the_allowlist(served):
    with pytest.raises(FetchError, match="private, loopback or reserved"):
        with fetched(f"{served}/jfk.flac", Settings()):
            pass


@pytest.mark.parametrize("address", ["10.0.0.7", "192.168.1.1", "169.254.169.254", "[::1]", "0.0.0.0", "[fd00::1]"])
def test_private_and_link_local_addresses_are_refused(address):
    with pytest.raises(FetchError, match="refusing"):
        with fetched(f"http://{address}/a.wav", LOOPBACK):
            pass


def test_a_redirect_to_a_private_address_is_refused(served):
    with pytest.raises(FetchError, match="refusing to download from 169.254.169.254"):
        with fetched(f"{served}/redirect-to/http__169.254.169.254/latest/meta-data", LOOPBACK):
            pass


def test_a_redirect_within_allowed_hosts_is_followed(served):
    with fetched(f"{served}/redirect-to/{served.replace('://', '__')}/jfk.flac", LOOPBACK) as got:
        assert got.size == audio("jfk.flac").stat().st_size


def test_not_found_says_so(served):
    with pytest.raises(FetchError, match="HTTP 404"):
        with fetched(f"{served}/missing.wav", LOOPBACK):
            pass


def test_size_cap(served):
    small = Settings(url_allowlist=("127.0.0.1",), max_bytes=10_000)
    with pytest.raises(FetchError, match="over the limit"):
        with fetched(f"{served}/jfk.flac", small):
            pass


def test_time_out_of_a_server_that_stalls(served):
    impatient = Settings(url_allowlist=("127.0.0.1",), download_timeout=1.0)
    with pytest.raises(FetchError, match="timed out"):
        with fetched(f"{served}/slow", impatient):
            pass


@pytest.mark.parametrize("url", ["ftp://example.com/a.wav", "file:///etc/passwd", "gopher://x/"])
def test_only_http_and_https(url):
    with pytest.raises(FetchError, match="unsupported URL scheme"):
        with fetched(url, LOOPBACK):
            pass


def test_credentials_in_urls_are_refused():
    with pytest.raises(FetchError, match="credentials"):
        with fetched("http://user:pw@example.com/a.wav", LOOPBACK):
            pass


def test_unresolvable_host():
    with pytest.raises(FetchError, match="cannot resolve"):
        resolve_allowed("no-such-host.invalid", 80, Settings())


def test_allowlist_by_network_range():
    assert resolve_allowed("127.0.0.1", 80, Settings(url_allowlist=("127.0.0.0/8",))) == "127.0.0.1"


def test_local_paths(tmp_path):
    with fetched(str(audio("jfk.flac")), Settings()) as got:
        assert got.path == audio("jfk.flac")
    with pytest.raises(InputError, match="not found"):
        with fetched(str(tmp_path / "nope.wav"), Settings()):
            pass


def test_base64_is_decoded_and_removed():
    import base64

    data = base64.b64encode(audio("english.wav").read_bytes()).decode()
    with base64_audio(data, Settings()) as got:
        path = got.path
        assert path.read_bytes() == audio("english.wav").read_bytes()
    assert not path.exists()
    with pytest.raises(InputError, match="not valid base64"):
        with base64_audio("@@@not base64@@@", Settings()):
            pass


# IPv6 forms that carry loopback, private, link-local or metadata IPv4 addresses in them: a NAT64
# or 6to4 gateway (or a Teredo/ISATAP tunnel) would deliver the request to that IPv4 address.
EMBEDDED = ["64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b::a00:7", "64:ff9b:1::7f00:1", "2002:7f00:1::1",
            "2002:a9fe:a9fe::", "2002:c0a8:101::1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "::ffff:127.0.0.1",
            "::ffff:169.254.169.254", "::127.0.0.1", "::a9fe:a9fe", "::ffff:0:7f00:1",
            "2606:4700::5efe:7f00:1", "2606:4700::200:5efe:a9fe:a9fe"]


@pytest.mark.parametrize("address", EMBEDDED)
def test_ipv6_forms_of_private_ipv4_addresses_are_refused(address):
    with pytest.raises(FetchError, match="refusing"):
        with fetched(f"http://[{address}]/latest/meta-data/", LOOPBACK):
            pass


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"])
def test_ipv6_forms_of_public_addresses_pass_the_guard(address):
    import ipaddress

    from hearback.fetch import is_public

    assert is_public(ipaddress.ip_address(address))
