"""Direct awards through the gateway's routes on the fakes: the API with its scope, and the
dashboard page with an uploaded CSV file (sent twice with the same form: one award)."""

import re

from schemas.awards import AwardGranted

PEOPLE_CSV = b"Volunteer Name;E-mail\nSam Okafor;sam@example.org\nAna Lima;ana@example.org\n"


def test_the_api_awards_and_answers_a_repeat_with_the_same_ids(gateway, publisher, store, riverside):
    body = {"recipients": [{"email": "sam@example.org"}], "narrative": "Thanks!", "idempotency_key": "k-1"}
    auth = {"Authorization": f"Bearer {riverside.api_key}"}
    first = gateway.post(f"/v1/badge-classes/{riverside.badge_id}/awards", json=body, headers=auth)
    assert first.status_code == 202 and first.json()["replayed"] is False
    again = gateway.post(f"/v1/badge-classes/{riverside.badge_id}/awards", json=body, headers=auth)
    assert again.json() == {**first.json(), "replayed": True}
    assert gateway.post("/v1/badge-classes/nope/awards", json=body, headers=auth).status_code == 404
    other = {**body, "narrative": "Something else"}
    assert (
        gateway.post(f"/v1/badge-classes/{riverside.badge_id}/awards", json=other, headers=auth).status_code
        == 409
    )
    assert gateway.post(f"/v1/badge-classes/{riverside.badge_id}/awards", json=body).status_code == 401
    assert {a.award_id for a in publisher.of(AwardGranted)} == {first.json()["awards"][0]["award_id"]}


def test_the_page_awards_an_uploaded_list_once(gateway, publisher, riverside):
    assert gateway.post("/dashboard/sign-in", data={"api_key": riverside.api_key}).status_code == 303
    page = gateway.get(f"/dashboard/awards?badge={riverside.badge_id}").text
    form = {
        "token": re.search(r'name="token" value="([^"]+)"', page)[1],
        "award_key": re.search(r'name="award_key" value="([^"]+)"', page)[1],
        "badge": riverside.badge_id,
        "narrative": "Ran the winter coat drive.",
    }
    files = {"file": ("people.csv", PEOPLE_CSV, "text/csv")}
    done = gateway.post("/dashboard/awards", data=form, files=files)
    assert done.status_code == 200 and "to 2 people" in done.text, done.text
    again = gateway.post("/dashboard/awards", data=form, files=files)
    assert "already made" in again.text
    assert len({a.award_id for a in publisher.of(AwardGranted)}) == 2
    bad = gateway.post(
        "/dashboard/awards", data={**form, "award_key": "k2"}, files={"file": ("p.csv", b"Sam;nope\n")}
    )
    assert bad.status_code == 422 and "Row 1" in bad.text
