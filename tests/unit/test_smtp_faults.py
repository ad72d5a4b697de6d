"""The dev SMTP sink's fault choice (pure: a plan, the time and a random source), and which
temporary SMTP refusals the Mailer counts as the relay's trouble rather than the address's."""

import json

import pytest

from cairn.adapters.smtp import relay_trouble
from devtools.smtp_faults import KINDS, Fault, FaultPlan, choose


def draws(*values: float):
    numbers = iter(values)
    return lambda: next(numbers)


PLAN = FaultPlan(rate=0.3, until=1000.0, kinds=KINDS, timeout_seconds=12)


def test_no_plan_or_a_past_plan_injects_nothing():
    assert choose(None, 10.0, draws(0.0, 0.0, 0.0)) is None
    assert choose(PLAN, 1000.0, draws(0.0, 0.0, 0.0)) is None, "until is exclusive"
    assert choose(PLAN, 2000.0, draws(0.0, 0.0, 0.0)) is None


def test_the_rate_decides_whether_a_transaction_is_faulted():
    assert choose(PLAN, 10.0, draws(0.3, 0.0, 0.0)) is None
    assert choose(PLAN, 10.0, draws(0.29, 0.0, 0.0)) == Fault("refuse", "MAIL", 12)
    assert choose(FaultPlan(0.0, 1000.0), 10.0, draws(0.0, 0.0, 0.0)) is None, "rate 0: never"
    assert choose(FaultPlan(1.0, 1000.0), 10.0, draws(0.999, 0.0, 0.0)) is not None, "rate 1: always"


def test_kind_and_stage_are_drawn_uniformly_from_the_plan():
    assert choose(PLAN, 10.0, draws(0.1, 0.5, 0.5)) == Fault("drop", "RCPT", 12)
    assert choose(PLAN, 10.0, draws(0.1, 0.99, 0.99)) == Fault("timeout", "DATA", 12)
    only = FaultPlan(1.0, 1000.0, kinds=("timeout",), timeout_seconds=3)
    assert {choose(only, 10.0, draws(0.5, k / 10, 0.0)).kind for k in range(10)} == {"timeout"}
    assert choose(FaultPlan(1.0, 1000.0, kinds=()), 10.0, draws(0.0, 0.0, 0.0)) is None


def test_a_sample_of_draws_matches_the_rate():
    import random

    source = random.Random(15).random
    faults = [choose(PLAN, 10.0, source) for _ in range(10_000)]
    injected = [f for f in faults if f is not None]
    assert 0.28 < len(injected) / len(faults) < 0.32
    assert {f.kind for f in injected} == set(KINDS)
    assert {f.stage for f in injected} == {"MAIL", "RCPT", "DATA"}


def test_the_switch_file_format():
    text = json.dumps({"rate": 0.3, "until": 5, "kinds": ["drop"], "timeout_seconds": 2})
    assert FaultPlan.parse(text) == FaultPlan(0.3, 5.0, ("drop",), 2.0)
    assert FaultPlan.parse('{"rate": 1, "until": 5}') == FaultPlan(1.0, 5.0, KINDS, 12.0)
    for bad in ('{"rate": 1, "until": 5, "kinds": ["explode"]}', '{"until": 5}', "[]", "{"):
        with pytest.raises((ValueError, KeyError)):
            FaultPlan.parse(bad)


@pytest.mark.parametrize(
    ("code", "message", "relay"),
    [
        (421, "4.3.2 service shutting down", True),
        (451, "4.3.0 Temporary local problem", True),
        (450, "4.4.1 no answer from host", True),
        (451, "4.7.1 greylisted, try later", False),
        (452, "4.2.2 mailbox full", False),
        (450, "mailbox busy", False),
    ],
)
def test_a_rcpt_4xx_is_the_relays_trouble_only_for_421_and_system_or_network_status(code, message, relay):
    assert relay_trouble(code, message) is relay
