"""Named points where a service can be made to die by SIGKILL, so tests prove recovery for real.

CAIRN_CRASH_POINTS=signer.credential_stored,notifier.email_sent kills the process the first
time it reaches each named point (a marker file under var/run/ keeps a restarted process from
dying again). Unset, as in production, every point is a no-op.
"""

import os
import signal

from cairn.settings import get_settings

ENV = "CAIRN_CRASH_POINTS"


def crash_point(name: str) -> None:
    wanted = os.environ.get(ENV)
    if not wanted or name not in wanted.split(","):
        return
    marker = get_settings().var_dir / "run" / f"crashed-{name}"
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    os.kill(os.getpid(), signal.SIGKILL)
