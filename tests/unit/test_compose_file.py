"""docker-compose.yml restarts every long-running service and names only services that exist."""

import re

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


def _compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def _settings_variables() -> set[str]:
    from cairn.settings import Settings

    return {f"CAIRN_{name.upper()}" for name in Settings.model_fields}


def _compose_variables() -> set[str]:
    """CAIRN_ names the compose file sets in a service's environment or substitutes (${CAIRN_X})."""
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    named = set(re.findall(r"\$\{(CAIRN_[A-Z0-9_]+)", text))
    for service in _compose()["services"].values():
        named |= {key for key in service.get("environment") or {} if key.startswith("CAIRN_")}
    return named


def _env_example_variables() -> set[str]:
    """Every CAIRN_X= line of .env.example, set or commented out."""
    text = (REPO_ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*(CAIRN_[A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_images_are_pinned_to_versions():
    for name, service in _compose()["services"].items():
        if "image" not in service:
            continue
        image, _, tag = service["image"].rpartition(":")
        assert image and tag and tag != "latest" and re.search(r"\d", tag), f"{name}: {service['image']}"


def test_every_cairn_variable_the_compose_file_sets_is_a_setting():
    named = _compose_variables()
    assert {"CAIRN_KAFKA_BOOTSTRAP", "CAIRN_DATABASE_URL", "CAIRN_VAR_DIR"} <= named
    assert named - _settings_variables() == set()


def test_env_example_names_every_setting_and_nothing_else():
    documented, settings = _env_example_variables(), _settings_variables()
    assert settings - documented == set(), "settings missing from .env.example"
    assert documented - settings == set(), ".env.example names variables Cairn does not read"
    assert _compose_variables() - documented == set()


def test_every_cairn_service_reads_the_env_file():
    for name, service in _compose()["services"].items():
        if "build" in service:
            assert any(entry["path"] == ".env" for entry in service["env_file"]), name
