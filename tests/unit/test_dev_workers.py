"""`cairn dev` runs N aggregators, signers and notifiers under names the chaos driver kills by
(var/run/<name>.pid), each on a metrics port no other process has, and a crash point fires once
however many workers of its service reach it."""

import multiprocessing

import pytest

from cairn import crash_points
from cairn.settings import Settings
from devtools.dev import _metrics_port, _service_instances


def test_each_worker_has_its_own_name_and_metrics_port():
    settings = Settings(aggregator_workers=2, signer_workers=2, notifier_workers=3)
    instances = {name: env for name, _, env in _service_instances(settings)}
    assert [n for n in instances if n.startswith(("signer", "notifier"))] == [
        "signer",
        "signer-2",
        "notifier",
        "notifier-2",
        "notifier-3",
    ]
    assert instances["signer-2"] == {"CAIRN_INSTANCE_NAME": "signer-2"}
    assert instances["notifier-3"] == {"CAIRN_INSTANCE_NAME": "notifier-3"}
    assert instances["aggregator-2"]["CAIRN_AGGREGATOR_NAME"] == "aggregator-2"
    ports = {name: _metrics_port(settings, name) for name in instances}
    assert ports["signer-2"] == 9202 and ports["notifier-3"] == 9303 and ports["aggregator-2"] == 9201
    served = [p for p in ports.values() if p]
    assert len(served) == len(set(served)), f"two workers on one metrics port: {ports}"


def test_one_worker_each_is_named_as_before():
    names = [name for name, _, _ in _service_instances(Settings())]
    assert names == ["smtp-sink", "gateway", "projector", "aggregator", "signer", "notifier", "webhooks"]


def test_the_workers_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CAIRN_SIGNER_WORKERS", "2")
    monkeypatch.setenv("CAIRN_NOTIFIER_WORKERS", "2")
    settings = Settings()
    assert (settings.signer_workers, settings.notifier_workers) == (2, 2)


def test_a_metrics_port_of_zero_stays_off():
    assert Settings(metrics_port_signer=0).metrics_port_of("signer", "signer-2") == 0


def _reach(var_dir: str, point: str, results: "multiprocessing.Queue[bool]") -> None:
    import os

    os.environ["CAIRN_VAR_DIR"] = var_dir
    crash_points.get_settings.cache_clear()
    results.put(crash_points.fault_point(point))


@pytest.mark.parametrize("attempt", range(3))
def test_a_point_fires_once_for_all_workers_of_a_service(tmp_path, monkeypatch, attempt):
    monkeypatch.setenv(crash_points.ENV, "notifier.before_send")
    results: multiprocessing.Queue[bool] = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_reach, args=(str(tmp_path), "notifier.before_send", results))
        for _ in range(8)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    assert sorted(results.get(timeout=5) for _ in workers) == [False] * 7 + [True]
