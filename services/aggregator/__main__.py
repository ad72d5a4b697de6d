"""Runs one aggregator worker: python -m services.aggregator."""

import sys

from services.aggregator.app import app


def main() -> None:
    sys.argv = [sys.argv[0], "worker", "--loglevel", "info"]
    app.main()


if __name__ == "__main__":
    main()
