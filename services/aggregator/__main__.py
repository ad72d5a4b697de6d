"""Runs one aggregator worker: python -m services.aggregator."""

import sys

from cairn.settings import get_settings
from services.aggregator.app import build


def main() -> None:
    # --without-web: Faust's worker command turns the web server on unless told not to, whatever
    # web_enabled says, and a second worker's port (the first's + 1) may be some socket's by then
    sys.argv = [sys.argv[0], "worker", "--without-web", "--loglevel", "info"]
    build(get_settings()).app.main()


if __name__ == "__main__":
    main()
