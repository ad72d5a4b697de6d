"""Whether this worker process has started consuming: its consume loops mark themselves, and the
worker's metrics port answers GET /readyz from here (200 ready, 503 not yet). One registry per
process, shared by its threads (the HTTP server runs in one)."""

import threading


class Readiness:
    """Ready once at least one consume loop has joined its group and none is still joining."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loops: dict[str, bool] = {}

    def joining(self, name: str) -> None:
        with self._lock:
            self._loops[name] = False

    def consuming(self, name: str) -> None:
        """The loop's consumer has joined its group (and has its assignment, possibly empty)."""
        with self._lock:
            self._loops[name] = True

    def stopped(self, name: str) -> None:
        with self._lock:
            self._loops.pop(name, None)

    def state(self) -> dict[str, bool]:
        with self._lock:
            return dict(self._loops)

    def ready(self) -> bool:
        loops = self.state()
        return bool(loops) and all(loops.values())


WORKER = Readiness()
