"""docker-compose.yml restarts every long-running service and names only services that exist."""

import yaml

from cairn.settings import REPO_ROOT


def test_every_service_restarts_and_depends_only_on_real_services():
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    for name, service in services.items():
        if name != "setup":  # runs once, before the others
            assert service.get("restart") in {"unless-stopped", "always"}, name
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on unknown service {needed}"


def test_the_gateway_is_healthy_only_when_ready():
    """Its health check asks /readyz (services/gateway/routers/health.py), which fails with a 503."""
    gateway = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]["gateway"]
    probe = " ".join(gateway["healthcheck"]["test"])
    assert "urlopen('http://127.0.0.1:8000/readyz'" in probe, probe
    from services.gateway.routers import health

    assert "/readyz" in {route.path for route in health.router.routes}


def test_each_worker_is_healthy_only_when_consuming():
    """Their health checks ask /readyz on each one's metrics port (cairn.adapters.metrics)."""
    from cairn.settings import Settings

    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    for worker in ("aggregator", "signer", "notifier", "projector"):
        port = getattr(Settings(), f"metrics_port_{worker}")
        probe = " ".join(services[worker]["healthcheck"]["test"])
        assert f"urlopen('http://127.0.0.1:{port}/readyz'" in probe, (worker, probe)
