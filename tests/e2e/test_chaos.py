"""A short chaos run (`make chaos` at a small size) inside `make test`: every service instance
SIGKILLed, PostgreSQL restarted and the SMTP server faulty while events go in, on the module's
single broker (the three-broker failover has its own test, test_broker_failover.py). The driver
judges from what the system did and exits 1 unless nothing was lost or doubled; the test also
checks the faults really happened."""

import json
import os
import subprocess
import sys

import pytest

from cairn.settings import REPO_ROOT

pytestmark = pytest.mark.e2e


def test_a_short_chaos_run_loses_nothing_and_doubles_nothing(kafka, tmp_path):
    out = tmp_path / "chaos.json"
    run = subprocess.run(
        [
            sys.executable,
            "devtools/chaos.py",
            *("--volunteers", "60", "--minutes", "1.5", "--kills", "1", "--smtp-seconds", "45"),
            *("--bootstrap", kafka, "--settle-minutes", "4", "--out", str(out)),
        ],
        cwd=REPO_ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")},
            "PYTHONPATH": str(REPO_ROOT),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(out.read_text()) if out.exists() else {}
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-6000:], json.dumps(report)[:6000])
    figures = report["figures"]
    assert sum(figures["kills"].values()) >= 5, figures["kills"]
    assert figures["database_restarts"] == 1
    assert sum(figures["smtp_faults_injected"].values()) > 0
    assert report["credentials"]["expected"] == report["credentials"]["issued"] > 50
    assert report["dead_letters"]["dead_lettered"] == report["dead_letters"]["injected"] == 16
    assert report["records_scanned"] > 1000 and report["personal_data"] == []
