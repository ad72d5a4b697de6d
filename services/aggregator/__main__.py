"""Runs one aggregator worker: python -m services.aggregator."""

import sys

from cairn.adapters.metrics import serve_metrics
from cairn.settings import get_settings
from services.aggregator.app import build


def main() -> None:
    settings = get_settings()
    port = settings.metrics_port_of("aggregator", settings.aggregator_name)
    serve_metrics(port, settings.aggregator_name, settings.metrics_host)
    app = build(settings).app
    # --without-web: Faust's worker command turns the web server on unless told not to, whatever
    # web_enabled says, and a second worker's port (the first's + 1) may be some socket's by then
    # --quiet: no banner on stdout, so every line of the worker's log is JSON
    sys.argv = [sys.argv[0], "--quiet", "worker", "--without-web", "--loglevel", "info"]
    app.main()


if __name__ == "__main__":
    main()
