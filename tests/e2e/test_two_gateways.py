"""Two gateway processes behind one address, on PostgreSQL: what the README promises for
running more than one gateway. A round-robin TCP proxy in the test stands for the load
balancer; every request opens a new connection, so requests alternate between the gateways."""

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.utils import parseaddr

import httpx
import pytest

from cairn.settings import REPO_ROOT
from devtools.dev import free_port
from devtools.smtp_sink import read_mailbox
from tests.conftest import Stopper, System, running_system, ten_hours_badge
from tests.e2e.volunteering import organisation, shift, wait_for_mail, wait_until, wait_until_consumed
from tests.integration.test_migrations import fresh_postgres

pytestmark = pytest.mark.e2e

BURST = 20  # per process; refill (6 a minute) is too slow to matter within the test
VOLUNTEERS = [f"v{n}@example.org" for n in range(3)]


class RoundRobinProxy:
    """Hands each new connection to the next upstream port, in turn."""

    def __init__(self, port: int, upstreams: list[int]) -> None:
        self.port, self.upstreams, self.turn = port, upstreams, 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        assert self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        upstream = self.upstreams[self.turn % len(self.upstreams)]
        self.turn += 1
        up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream)

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except ConnectionError:
                pass
            finally:
                w.close()

        await asyncio.gather(pipe(client_r, up_w), pipe(up_r, client_w))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def two_gateways(
    kafka_starting: str,
    postgres_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    stopper: Stopper,
) -> Iterator[tuple[System, str, list[str]]]:
    """`cairn dev` on PostgreSQL plus a second gateway process; yields the system, the proxy's
    URL and each gateway's own URL."""
    database_url = asyncio.run(fresh_postgres(postgres_url))
    proxy_port = free_port()
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    env = {
        "CAIRN_DATABASE_URL": database_url,
        "CAIRN_PUBLIC_URL": proxy_url,
        "CAIRN_API_BURST": str(BURST),
        "CAIRN_API_REQUESTS_PER_MINUTE": "6",
    }
    var_dir = tmp_path_factory.mktemp("two-gateways")
    with running_system(kafka_starting, var_dir, env, stopper) as system:
        first_port = int(system.env["CAIRN_GATEWAY_PORT"])
        second_port = free_port()
        log = (var_dir / "second-gateway.log").open("wb")
        second = subprocess.Popen(
            [sys.executable, "-m", "services.gateway"],
            env={**system.env, "CAIRN_GATEWAY_PORT": str(second_port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
        proxy = RoundRobinProxy(proxy_port, [first_port, second_port])
        try:
            direct = [f"http://127.0.0.1:{port}" for port in (first_port, second_port)]
            for url in direct:
                wait_until(
                    lambda url=url: _status(f"{url}/healthz"),
                    lambda status: status == 200,
                    f"{url} not answering",
                    60,
                )
            yield system, proxy_url, direct
        finally:
            proxy.stop()
            second.terminate()
            second.wait(30)


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def _client(system: System, base_url: str, slug: str) -> httpx.Client:
    """An API client on its own org's key that opens a new connection for every request."""
    client = organisation(system, slug.title(), slug)
    return httpx.Client(
        base_url=base_url,
        headers=client.headers,
        timeout=30,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def test_two_gateways_behind_one_address(two_gateways):
    system, proxy_url, direct = two_gateways
    client = _client(system, proxy_url, "pantry")

    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    for n, email in enumerate(VOLUNTEERS):  # alternate gateways, one POST each
        response = client.post("/v1/events", json=shift(f"s{n}", n + 1, 10, email=email))
        assert response.status_code == 202, response.text

    wait_for_mail(system.mail_dir, len(VOLUNTEERS))
    wait_until_consumed(system)  # a duplicate would have been made by now
    mails = read_mailbox(system.mail_dir)
    assert sorted(parseaddr(str(mail["To"]))[1] for mail in mails) == sorted(VOLUNTEERS)

    gateways = [httpx.Client(base_url=url, headers=client.headers, timeout=30) for url in direct]
    for email in VOLUNTEERS:
        answers = [
            wait_until(
                lambda g=g, email=email: g.get(f"/v1/recipients/{email}/progress"),
                lambda r: r.status_code == 200 and [b["awarded"] for b in r.json()["badges"]] == [True],
                f"progress for {email}",
                30,
                1,
            ).json()
            for g in gateways
        ]
        assert answers[0] == answers[1]
        credentials = client.get("/v1/credentials", params={"email": email})
        assert credentials.status_code == 200
        assert [c["badge_class_id"] for c in credentials.json()] == ["ten-hours"]


def test_rate_limit_is_per_process(two_gateways):
    """As the README says: with N gateways a key may make about N times the per-process allowance."""
    system, proxy_url, _ = two_gateways
    client = _client(system, proxy_url, "kitchen")
    statuses = [client.get("/v1/badge-classes").status_code for _ in range(3 * BURST)]
    accepted = statuses.count(200)
    print(f"\n{accepted} of {len(statuses)} accepted through two gateways (burst {BURST} each)")
    assert set(statuses) <= {200, 429}
    assert BURST + 1 <= accepted <= 2 * BURST + 1
