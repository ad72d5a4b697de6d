"""The webhook Poster: POSTs a signed delivery over HTTP(S), guarded against SSRF.

The host is resolved here and every address checked against the URL policy (no loopback,
private, link-local or reserved address unless the installation allows it); the request then
goes to the checked address itself, with the Host header and TLS name (SNI and certificate
check) of the URL, so a DNS answer that changes between check and connect cannot redirect it.
Redirects are not followed (a 3xx is a failed attempt); the answer is read to a small cap and
the whole attempt has one deadline, as the verifier's fetches do (cairn/usecases/verifying.py).
"""

import asyncio
import ipaddress
import socket
import time
from urllib.parse import urlsplit, urlunsplit

import httpx

from cairn.domain.webhooks import ANSWER_KEPT_CHARS, EndpointRefused, UrlPolicy
from cairn.ports import Answer

ANSWER_READ_BYTES = ANSWER_KEPT_CHARS * 4


class HttpPoster:
    def __init__(self, client: httpx.AsyncClient, policy: UrlPolicy, timeout_seconds: float = 10) -> None:
        self.client = client
        self.policy = policy
        self.timeout_seconds = timeout_seconds

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with asyncio.timeout(self.timeout_seconds):
                pinned, host_header, sni = await self._pinned(url)
                request = self.client.build_request(
                    "POST",
                    pinned,
                    content=body,
                    headers={**headers, "host": host_header, "user-agent": "Cairn-Webhooks/1"},
                    extensions={"sni_hostname": sni} if sni else {},
                    timeout=None,
                )
                response = await self.client.send(request, stream=True, follow_redirects=False)
                try:
                    text = await _start_of(response)
                finally:
                    await response.aclose()
                return Answer(response.status_code, text, took())
        except EndpointRefused as refused:
            return Answer(None, f"not sent: {refused}", took())
        except TimeoutError:
            return Answer(None, f"no answer within {self.timeout_seconds:g} s", took())
        except (httpx.HTTPError, OSError) as error:
            return Answer(None, f"no answer: {type(error).__name__}: {error}"[:ANSWER_KEPT_CHARS], took())

    async def _pinned(self, url: str) -> tuple[str, str, str | None]:
        """The URL with its host replaced by a checked address, the Host header, and the TLS
        name (https only)."""
        self.policy.check_url(url)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise EndpointRefused(f"{host} has no address")
        for address in addresses:
            self.policy.check_address(address)
        chosen = addresses[0]
        literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
        netloc = f"{literal}:{port}"
        host_header = parts.netloc.rsplit("@", 1)[-1]
        sni = host if parts.scheme == "https" else None
        return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host_header, sni


async def _start_of(response: httpx.Response) -> str:
    """The first ANSWER_READ_BYTES of the body, decoded leniently; the rest is not read."""
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= ANSWER_READ_BYTES:
            break
    return bytes(kept[:ANSWER_READ_BYTES]).decode("utf-8", errors="replace")[:ANSWER_KEPT_CHARS]
