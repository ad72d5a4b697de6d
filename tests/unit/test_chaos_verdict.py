"""The chaos run's plan and verdict (devtools/chaos_plan.py, chaos_verdict.py): the plan can be
judged exactly, and the verdict catches each way of losing or doubling something."""

from datetime import UTC, datetime

from devtools import chaos_plan, chaos_verdict
from devtools.chaos_plan import EARLY, LATE, Poison
from devtools.chaos_verdict import Issued

ANCHOR = datetime(2026, 11, 30, tzinfo=UTC)


def test_a_plan_is_the_same_for_the_same_seed_and_differs_for_another():
    one, again = chaos_plan.plan(50, 60, ANCHOR, seed=3), chaos_plan.plan(50, 60, ANCHOR, seed=3)
    assert one.posts == again.posts and one.faults == again.faults
    assert chaos_plan.plan(50, 60, ANCHOR, seed=4).posts != one.posts


def test_each_void_goes_out_a_phase_before_the_entry_it_takes_back():
    plan = chaos_plan.plan(200, 60, ANCHOR)
    phase_of = {}
    for post in plan.posts:
        for event in post.events:
            phase_of.setdefault((post.org, event["id"]), []).append(post.phase)
    voids = [(p.org, e) for p in plan.posts for e in p.events if e["type"] == "activity_voided"]
    assert len(voids) == plan.counts["voids"] > 0
    for org, void in voids:
        assert phase_of[(org, void["id"])] == [EARLY]
        assert phase_of[(org, void["voids"])] == [LATE]


def test_every_event_of_the_histories_goes_out_and_some_twice():
    plan = chaos_plan.plan(200, 60, ANCHOR)
    sent = [(p.org, e["id"]) for p in plan.posts for e in p.events]
    history = chaos_plan.histories(ANCHOR, plan.people)
    assert {(org, e["id"]) for org, events in history.items() for e in events} <= set(sent)
    assert len(sent) == plan.counts["events"]
    assert len(sent) - len(set(sent)) == plan.counts["duplicates"] > 0
    assert 0 < plan.counts["single_posts"] < plan.counts["posts"]


def test_every_service_instance_is_killed_and_the_broker_comes_back():
    faults = chaos_plan.plan(20, 100, ANCHOR, kills_per_service=2, brokers=3).faults
    kills = [f.target for f in faults if f.kind == "kill"]
    assert sorted(kills) == sorted(chaos_plan.SERVICES_KILLED * 2)
    assert all(10 <= f.at <= 85 for f in faults if f.kind == "kill")
    kinds = [f.kind for f in faults]
    assert kinds.index("broker-kill") < kinds.index("broker-start")
    assert "database-restart" in kinds and "smtp" in kinds
    assert "broker-kill" not in [f.kind for f in chaos_plan.plan(20, 100, ANCHOR, brokers=1).faults]


def test_the_credentials_verdict_names_lost_unexpected_doubled_and_different():
    expected = {"a": ("x",), "b": ("y",), "c": ("z",)}
    issued = [
        Issued("1", "a", ("x",)),
        Issued("2", "b", ("y2",)),
        Issued("3", "d", ()),
        Issued("4", "a", ("x",)),
    ]
    verdict = chaos_verdict.credentials_verdict(expected, issued)
    assert verdict["lost"] == ["c"] and verdict["unexpected"] == ["d"] and verdict["twice"] == ["a"]
    assert [d["award_id"] for d in verdict["other_dates"]] == ["b"]
    clean = chaos_verdict.credentials_verdict({"a": ("x",)}, [Issued("1", "a", ("x",))])
    assert not (clean["lost"] or clean["unexpected"] or clean["twice"] or clean["other_dates"])


def test_the_email_verdict_counts_messages_at_the_server_by_message_id():
    verdict = chaos_verdict.emails_verdict(
        {"c1": "<1>", "c2": "<2>", "c3": "<3>"}, ["<1>", "<2>", "<2>", "<9>"]
    )
    assert verdict["credentials_without_email"] == ["c3"]
    assert verdict["emailed_twice"] == ["c2"]
    assert verdict["emails_for_no_credential"] == ["<9>"]


def test_the_dead_letter_verdict_wants_exactly_the_poison_with_causes():
    poison = [Poison("t", b"k", b"bad"), Poison("u", b"k", b"worse")]
    letters = {"t": [{"value": "bad", "error": "ValueError: no"}], "u": [{"value": "good", "error": ""}]}
    verdict = chaos_verdict.dead_letters_verdict(poison, letters)
    assert verdict["missing"] == ["u: worse"] and verdict["unexpected"] == ["u: good"]
    assert verdict["without_cause"] == 1


def test_personal_data_is_found_by_email_and_by_name():
    records = {
        "ok": [(b"org:" + b"a" * 64, b'{"identityHash": "sha256$abc"}')],
        "leaky": [(b"", b'{"email": "Ana.Brook.1@example.org"}'), (b"", b'{"who": "Ana Brook"}')],
    }
    found = chaos_verdict.personal_data_found(records, ["ana.brook.1@example.org"], ["Ana Brook"])
    assert found == ["leaky record 0: volunteer email", "leaky record 1: a volunteer's name"]


def test_delays_count_only_emails_whose_span_misses_every_fault():
    pairs = [(0.0, 1.0), (10.0, 12.0), (20.0, 50.0)]
    figures = chaos_verdict.delays_outside_faults(pairs, [(11.0, 13.0), (40.0, 45.0)])
    assert figures["emails"] == 1 and figures["p99_s"] == 1.0


def test_memory_beyond_one_and_a_half_times_fails():
    assert chaos_verdict.memory_verdict({"signer": 100.0}, {"signer": 150.0})["within_limit"]
    assert not chaos_verdict.memory_verdict({"signer": 100.0}, {"signer": 151.0})["within_limit"]


def test_an_event_accepted_after_a_later_one_was_sent_may_have_arrived_out_of_order():
    in_order = [(0.0, 1.0, "2026-10-01"), (1.5, 2.0, "2026-10-08"), (2.5, 3.0, "")]
    assert not chaos_verdict.out_of_order(in_order)
    assert chaos_verdict.out_of_order([(0.0, 1.0, "2026-10-08"), (1.5, 2.0, "2026-10-01")])
    # in flight together: the later-dated one may have reached Kafka first
    assert chaos_verdict.out_of_order([(0.0, 2.0, "2026-10-01"), (1.0, 1.5, "2026-10-08")])


def test_another_date_is_excused_only_when_an_earlier_dated_event_arrived_late():
    issued = [Issued("1", "a", ("13 October 2026",)), Issued("2", "b", ("2 May 2026",))]
    expected = {"a": ("6 October 2026",), "b": ("1 May 2026",)}
    verdict = chaos_verdict.credentials_verdict(expected, issued, arrived_late={"a"})
    assert [d["award_id"] for d in verdict["other_dates"]] == ["b"]
    assert verdict["signed_before_a_late_event"] == 1
