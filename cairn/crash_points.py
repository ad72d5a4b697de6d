"""Named points where a service can be made to fail, so tests prove recovery for real.

CAIRN_CRASH_POINTS=signer.credential_stored,notifier.email_sent kills the process by SIGKILL
the first time it reaches each named point; a fault point instead tells the caller to misbehave
once (the aggregator stops fetching, as faust-streaming sometimes does). A marker file under
var/run/ keeps a restarted process, or another worker of the service, from failing again.
CAIRN_CRASH_ALWAYS=notifier.started instead kills the process every time it reaches the point:
a service that keeps dying. Unset, as in production, every point is a no-op.
"""

import os
import signal

from cairn.settings import get_settings

ENV = "CAIRN_CRASH_POINTS"
ALWAYS_ENV = "CAIRN_CRASH_ALWAYS"


def enabled(name: str) -> bool:
    """Whether this run names the point at all: a service installs its fault hooks only then,
    so an unset point costs nothing on the hot path."""
    named = os.environ.get(ENV, "").split(",") + os.environ.get(ALWAYS_ENV, "").split(",")
    return name in named


def _first_time(name: str, marker_prefix: str) -> bool:
    wanted = os.environ.get(ENV)
    if not wanted or name not in wanted.split(","):
        return False
    marker = get_settings().var_dir / "run" / f"{marker_prefix}-{name}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    try:  # created atomically: of several workers of a service (signer, signer-2) one fails, once
        with marker.open("x") as f:
            f.write(str(os.getpid()))  # which process it was: a test's own kill can tell
    except FileExistsError:
        return False
    return True


def crash_point(name: str) -> None:
    if _first_time(name, "crashed") or name in os.environ.get(ALWAYS_ENV, "").split(","):
        os.kill(os.getpid(), signal.SIGKILL)


def fault_point(name: str) -> bool:
    """True once, the first time an enabled point is reached: the caller then injects its fault."""
    return _first_time(name, "faulted")
