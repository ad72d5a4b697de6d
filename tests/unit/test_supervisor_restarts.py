"""`cairn dev` restarts a service that keeps dying with a pause that doubles up to a cap, and
never gives up on it (giving up used to stop every healthy service too)."""

from devtools.dev import RESTART_DELAY_CAP, STABLE_AFTER, Restarts


def test_quick_deaths_double_the_pause_up_to_the_cap_and_never_give_up():
    restarts = Restarts()
    delays = [restarts.died(ran_for=0.5) for _ in range(1000)]
    assert delays[:7] == [0, 1, 2, 4, 8, 16, 30]
    assert max(delays) == RESTART_DELAY_CAP == 30
    assert restarts.count == 1000


def test_a_service_that_ran_a_while_before_dying_restarts_at_once_again():
    restarts = Restarts()
    for _ in range(5):
        restarts.died(ran_for=1)
    assert restarts.died(ran_for=STABLE_AFTER + 1) == 0
    assert restarts.count == 1
