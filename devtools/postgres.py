"""A throwaway PostgreSQL cluster on a free loopback port, for tests and the chaos run: started
with Debian's initdb and pg_ctl (as user postgres when run as root, since the server refuses
to run as root), and restartable, so a test can take the database away and bring it back.

    cluster = start_cluster(Path("/tmp/somewhere"))
    cluster.url                # postgresql+asyncpg://cairn@127.0.0.1:PORT/cairn
    cluster.restart(10)        # stopped ("fast": connections cut), down 10 s, started again
    cluster.stop()
"""

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.dev import free_port


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries are installed (apt-get install postgresql)."""


def server_bin() -> Path | None:
    """The newest installed server's bin folder (Debian puts each version under its own)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class Cluster:
    """One running (or stopped) cluster: its data folder, port and the database `cairn`."""

    bin_dir: Path
    home: Path  # holds data/, the server log and the socket; owned by the server's user
    port: int

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def log_path(self) -> Path:
        return self.home / "pg.log"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://cairn@127.0.0.1:{self.port}/cairn"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*_as_postgres(), str(self.bin_dir / tool), *args], check=True, capture_output=True, timeout=120
        )

    def start(self) -> None:
        """Starts the server and returns once it accepts connections (pg_ctl -w)."""
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log_path),
            "-w",
            "-o",
            f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stops the server: "fast" rolls back open transactions and cuts every connection (what
        a restart by an operator or a package upgrade does); "immediate" is a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, down_seconds: float = 0.0, mode: str = "fast") -> None:
        """Stops the server, leaves it down `down_seconds`, and starts it again on the same port."""
        self.stop(mode)
        time.sleep(down_seconds)
        self.start()

    def running(self) -> bool:
        """Whether the server is up (pg_ctl status)."""
        status = subprocess.run(
            [*_as_postgres(), str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
        )
        return status.returncode == 0

    def remove(self) -> None:
        """Stops the server if it runs and deletes its files."""
        if self.running():
            self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def start_cluster(home: Path, port: int | None = None) -> Cluster:
    """A new cluster in `home` (made if missing; it must not be under a folder only root can
    enter, as the server runs as postgres) with a superuser `cairn` trusted on loopback and an
    empty database `cairn`; running when this returns."""
    bin_dir = server_bin()
    if bin_dir is None:
        raise PostgresMissing("PostgreSQL server not installed (apt-get install postgresql)")
    home.mkdir(parents=True, exist_ok=True)
    if _as_postgres():
        subprocess.run(["chown", "-R", "postgres", str(home)], check=True)
    cluster = Cluster(bin_dir, home, port or free_port())
    cluster._run("initdb", "-D", str(cluster.data), "-U", "cairn", "--auth=trust")
    cluster.start()
    try:
        cluster._run("createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "cairn", "cairn")
    except BaseException:
        cluster.remove()
        raise
    return cluster
