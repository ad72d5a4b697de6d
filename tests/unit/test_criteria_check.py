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
