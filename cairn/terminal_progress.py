"""A one-line progress bar on stderr for long work (benchmarks, imports, replays)."""

import sys


def progress_bar(label: str, done: int, total: int) -> None:
    filled = int(30 * done / max(total, 1))
    print(
        f"\r{label:<18} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}",
        end="",
        file=sys.stderr,
        flush=True,
    )
    if done >= total:
        print(file=sys.stderr)
