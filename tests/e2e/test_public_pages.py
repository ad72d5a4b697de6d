"""The public surface a browser sees: a landing page, /docs with nothing from other hosts, errors
as pages (the API keeps JSON), and per-address limits that count the client behind a trusted
proxy and only its misses, so a valid claim link opens after someone else's wrong guesses."""

import re
import secrets
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from devtools.smtp_sink import read_mailbox
from tests.conftest import system_with, ten_hours_badge
from tests.e2e.volunteering import claim_link, organisation, shift, wait_for_mail

pytestmark = pytest.mark.e2e

# The tests reach the gateway over loopback, standing in for the organisation's reverse proxy.
# Wrong links refill at one a minute, so the test does not depend on how fast the machine is.
system = system_with(
    "public-pages",
    CAIRN_TRUSTED_PROXIES='["127.0.0.1", "::1"]',
    CAIRN_LINK_MISSES_PER_MINUTE="1",
    CAIRN_LINK_MISSES_BURST="20",
)
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


def test_landing_page_links_my_badges_and_docs(system):
    landing = httpx.get(f"{system.public_url}/", headers=HTML)
    assert landing.status_code == 200 and landing.headers["content-type"].startswith("text/html")
    assert {"/my-badges", "/docs"} <= set(references(landing.text))


def test_docs_load_nothing_from_other_hosts(system):
    docs = httpx.get(f"{system.public_url}/docs", headers=HTML)
    assert docs.status_code == 200
    assert not re.search(r"https?://", docs.text), "no other host, not even a favicon or validator"
    assets = references(docs.text)
    assert any(url.endswith(".js") for url in assets) and any(url.endswith(".css") for url in assets)
    for url in assets:
        absolute = urljoin(f"{system.public_url}/docs", url)
        assert urlsplit(absolute).netloc == urlsplit(system.public_url).netloc
        fetched = httpx.get(absolute)
        assert fetched.status_code == 200 and len(fetched.content) > 1000, url
    assert httpx.get(f"{system.public_url}/openapi.json").json()["paths"]["/v1/events"]


def test_errors_are_pages_for_browsers_and_json_for_the_api(system):
    unknown = f"{system.public_url}/credentials/{secrets.token_hex(4)}-0000-4000-8000-000000000000"
    page = httpx.get(unknown, headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert '<h1 id="error-title">Not found</h1>' in page.text and "no such credential" in page.text
    assert httpx.get(unknown).json() == {"detail": "no such credential"}, "programs still get JSON"

    nowhere = httpx.get(f"{system.public_url}/no/such/page", headers=HTML)
    assert nowhere.status_code == 404 and 'id="error-title"' in nowhere.text

    api = httpx.get(f"{system.public_url}/v1/credentials", headers=HTML)
    assert api.status_code == 401 and api.json()["detail"].startswith("send Authorization")
    api_404 = httpx.get(f"{system.public_url}/v1/nothing-here", headers=HTML)
    assert api_404.status_code == 404 and api_404.json() == {"detail": "Not Found"}

    bad_form = httpx.post(f"{system.public_url}/my-badges", data={"email": "not-an-address"}, headers=HTML)
    assert bad_form.status_code == 422 and "email: value is not a valid email address" in bad_form.text


def earned_claim_link(system, slug: str, email: str) -> tuple[httpx.Client, str]:
    """A new organisation that awards `email` a badge; returns its API client and the claim link."""
    client = organisation(system, "Riverside Food Bank", slug)
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    before = len(read_mailbox(system.mail_dir))
    events = [shift(f"{slug}-{day}", day, 5, email=email) for day in (1, 2)]
    assert client.post("/v1/events", json={"events": events}).status_code == 202
    return client, claim_link(wait_for_mail(system.mail_dir, before + 1)[-1])


def test_wrong_guesses_do_not_lock_out_a_valid_link_from_the_same_address(system):
    client, link = earned_claim_link(system, "riverside-pages", "lee@example.org")
    base = link.rsplit("/claim/", 1)[0]

    # Someone at the food bank (one public address behind its proxy) guesses claim links.
    food_bank = {**HTML, "X-Forwarded-For": "6.6.6.6, 203.0.113.5"}  # the left hop is made up
    answers = [httpx.get(f"{base}/claim/{secrets.token_urlsafe(32)}", headers=food_bank) for _ in range(25)]
    assert {a.status_code for a in answers[:20]} == {404}
    refused = answers[-1]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.headers["content-type"].startswith("text/html")
    assert "Too many attempts" in refused.text and "try again in" in refused.text

    # A volunteer at the same address opens their real link; another address was never limited.
    assert httpx.get(link, headers=food_bank).status_code == 200
    elsewhere = {**HTML, "X-Forwarded-For": "203.0.113.77"}
    assert httpx.get(f"{base}/claim/{secrets.token_urlsafe(32)}", headers=elsewhere).status_code == 404
    guess = httpx.get(f"{base}/my-badges/{secrets.token_urlsafe(32)}", headers=food_bank)
    assert guess.status_code == 429, "sign-in links share the address's budget of misses"

    # The dashboard's sign-in counts wrong keys the same way and still lets a right one in.
    api_key = client.headers["Authorization"].removeprefix("Bearer ")
    wrong = httpx.post(f"{base}/dashboard/sign-in", data={"api_key": "cairn_nope"}, headers=food_bank)
    assert wrong.status_code == 429
    right = httpx.post(f"{base}/dashboard/sign-in", data={"api_key": api_key}, headers=food_bank)
    assert right.status_code == 303 and right.headers["location"] == "/dashboard"


def test_revoking_from_the_questions_page_confirms_and_returns_there(system):
    client, _ = earned_claim_link(system, "riverside-questions", "ada@example.org")
    [credential] = client.get("/v1/credentials").json()
    uuid = credential["id"].removeprefix("urn:uuid:")
    api_key = client.headers["Authorization"].removeprefix("Bearer ")
    dashboard = httpx.Client(base_url=system.public_url, headers=HTML)
    assert dashboard.post("/dashboard/sign-in", data={"api_key": api_key}).status_code == 303

    confirm = dashboard.get(f"/dashboard/credentials/{uuid}/revoke?back=questions&reason=void+of+a+shift")
    assert confirm.status_code == 200 and ">void of a shift</textarea>" in confirm.text
    assert 'name="back" value="questions"' in confirm.text
    token = re.search(r'name="token" value="([^"]+)"', confirm.text).group(1)
    done = dashboard.post(
        f"/dashboard/credentials/{uuid}/revoke",
        data={"token": token, "back": "questions", "reason": "void of a shift"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/dashboard/questions?done=revoke&credential={uuid}"
    page = dashboard.get(done.headers["location"]).text
    assert 'id="notice"' in page and "Revoked “Pantry volunteer: 10 hours” of Sam Okafor." in page
    assert client.get("/v1/credentials").json()[0]["status_reason"] == "void of a shift"

    # A crafted notice link names no credential of this organisation: nothing is shown.
    crafted = dashboard.get("/dashboard/credentials?done=resend&credential=../../evil").text
    assert 'id="notice"' not in crafted
    again = dashboard.post(f"/dashboard/credentials/{uuid}/revoke", data={"token": token, "reason": "x"})
    assert again.status_code == 409 and "cannot revoke a credential that is revoked" in again.text
