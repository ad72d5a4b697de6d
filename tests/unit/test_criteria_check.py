"""`cairn criteria check`: the engine over files, without Kafka."""

import json
from pathlib import Path

from cairn.cli import main

DATA = Path(__file__).parent.parent / "data" / "criteria"


def test_prints_one_json_line_per_award(capsys):
    assert main(["criteria", "check", str(DATA / "bike-repair.yaml"), str(DATA / "events.jsonl")]) == 0
    awards = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["recipient"], a["badge_class_id"]) for a in awards] == [
        ("sam@example.org", "bike-repair"),  # three of the four sessions, one posted as Sam@Example.org
        ("sam@example.org", "fixer"),  # the pathway: holds bike-repair, plus 2 open-workshop hours
    ]
    assert awards[0]["evidence"] == [{"measure": "distinct sessions", "achieved": 3.0, "required": 3.0}]
    assert awards[0]["earned_at"] == "2026-10-22T18:00:00Z"


def test_bad_event_line_is_named(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    events.write_text((DATA / "events.jsonl").read_text() + '{"id": "x", "type": "volunteer_shift"}\n')
    assert main(["criteria", "check", str(DATA / "bike-repair.yaml"), str(events)]) == 1
    error = capsys.readouterr().err
    assert "line 6:" in error and "volunteer_shift.volunteer: Field required" in error


def test_bad_badge_class_is_named(tmp_path, capsys):
    badge = tmp_path / "badge.yaml"
    badge.write_text(
        "id: Not A Slug\nname: x\ndescription: d\ncriteria_narrative: n\n"
        "criteria: {kind: total_hours, at_least: 0}\n"
    )
    assert main(["criteria", "check", str(badge), str(DATA / "events.jsonl")]) == 1
    error = capsys.readouterr().err
    assert "badge class 1:" in error and "id: String should match pattern" in error
    assert "criteria.total_hours.at_least: Input should be greater than 0" in error


def _shift(event_id: str, start: str, end: str) -> str:
    body = {"id": event_id, "type": "volunteer_shift", "volunteer": {"email": "ana@example.org"}}
    return json.dumps({**body, "started_at": start, "ended_at": end}) + "\n"


def test_overlapping_shifts_count_their_time_once_and_years_are_the_organisations(tmp_path, capsys):
    badge = tmp_path / "badge.yaml"
    badge.write_text(
        "id: yearly-5\nname: Five hours a year\ndescription: d\ncriteria_narrative: n\n"
        "repeat: calendar_year\ncriteria: {kind: total_hours, at_least: 5}\n"
    )
    events = tmp_path / "events.jsonl"
    # 19:00-22:00 and 20:00-23:00 on New Year's Eve in Chicago: four hours of time, not six.
    events.write_text(
        _shift("a", "2026-12-31T19:00:00-06:00", "2026-12-31T22:00:00-06:00")
        + _shift("b", "2027-01-01T02:00:00Z", "2027-01-01T05:00:00Z")
    )
    assert main(["criteria", "check", str(badge), str(events), "--timezone", "America/Chicago"]) == 0
    assert capsys.readouterr().out == ""
    events.write_text(
        events.read_text() + _shift("c", "2026-12-31T08:00:00-06:00", "2026-12-31T09:00:00-06:00")
    )
    assert main(["criteria", "check", str(badge), str(events), "--timezone", "America/Chicago"]) == 0
    [award] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert award["occurrence"] == 2026 and award["evidence"][0]["seconds"] == 5 * 3600
    assert main(["criteria", "check", str(badge), str(events)]) == 0  # in UTC: 2026 has 1 hour, 2027 four
    assert capsys.readouterr().out == ""
    assert main(["criteria", "check", str(badge), str(events), "--timezone", "Chicago"]) == 1
    assert "'Chicago' is not an IANA time zone name" in capsys.readouterr().err
