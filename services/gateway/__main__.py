"""Runs the gateway: python -m services.gateway."""

import uvicorn

from cairn.settings import get_settings
from services.gateway.app import create_app


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings), host=settings.gateway_host, port=settings.gateway_port, log_level="info"
    )


if __name__ == "__main__":
    main()
