"""Runs the gateway: python -m services.gateway."""

import uvicorn

from cairn.adapters import logs
from cairn.settings import get_settings
from services.gateway import access_log
from services.gateway.app import create_app


def main() -> None:
    settings = get_settings()
    config = uvicorn.Config(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level="info",
        log_config=None,  # cairn.adapters.logs: JSON lines like every service
        proxy_headers=False,  # X-Forwarded-For is read only from CAIRN_TRUSTED_PROXIES
    )
    server = uvicorn.Server(config)
    logs.configure("gateway", text=settings.log_format == "text")
    access_log.install()
    server.run()


if __name__ == "__main__":
    main()
