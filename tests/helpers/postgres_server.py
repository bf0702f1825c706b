"""A throwaway PostgreSQL server for the team-deployment tests: its own data folder, 127.0.0.1 only, a free port.

PostgreSQL refuses to run as root (as tests do in CI), so when root the server and its tools run as `nobody`,
keeping one capability, CAP_DAC_OVERRIDE, so they can reach a data folder inside root's private temporary
folders. Nothing on disk changes mode or owner except the data folder, which initdb creates and `nobody` owns.
"""

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from glob import glob
from pathlib import Path

DATABASE = "dagster"
USERNAME = "dagster"
PASSWORD = "test-only-password"  # a throwaway server on loopback; real ones take it from the environment
UNPRIVILEGED_USER = "nobody"
UNPRIVILEGED_GROUP = "nogroup"


def postgres_bin_dir() -> Path:
    """Debian's PostgreSQL binaries (the newest installed major version)."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise FileNotFoundError(
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (install Debian's postgresql package; "
            ".ci/run does it in CI)"
        )
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PostgresServer:
    root: Path
    port: int
    bin_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def environment(self) -> dict[str, str]:
        """What pipeline/instance/dagster.postgres.yaml reads."""
        return {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": DATABASE,
            "DAGSTER_PG_USERNAME": USERNAME,
            "DAGSTER_PG_PASSWORD": PASSWORD,
        }

    def _command(self, *args: str) -> list[str]:
        as_user = (
            [
                "setpriv",
                f"--reuid={UNPRIVILEGED_USER}",
                f"--regid={UNPRIVILEGED_GROUP}",
                "--clear-groups",
                "--inh-caps=+dac_override",
                "--ambient-caps=+dac_override",
                "--",
            ]
            if os.geteuid() == 0
            else []
        )
        return [*as_user, str(self.bin_dir / args[0]), *args[1:]]

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run(self._command(*args), capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({done.returncode}): {done.stdout[-1500:]}{done.stderr[-1500:]}"
            )

    def init(self) -> None:
        password_file = self.root / "password"
        password_file.write_text(PASSWORD + "\n")
        self._run(
            "initdb",
            "-D", str(self.data_dir),
            "-U", USERNAME,
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        )  # fmt: skip
        password_file.unlink()

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c fsync=off -c full_page_writes=off"
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "120",
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-w", "-t", "120", "-m", mode, "-D", str(self.data_dir))

    def create_database(self) -> None:
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=self.port, user=USERNAME, password=PASSWORD, dbname="postgres")
        try:
            con.autocommit = True
            con.cursor().execute(f"CREATE DATABASE {DATABASE}")
        finally:
            con.close()

    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()


@contextmanager
def throwaway_postgres(root: Path) -> Iterator[PostgresServer]:
    """Initialise, start and create the instance database; always stop the server."""
    server = PostgresServer(root, free_port(), postgres_bin_dir())
    root.mkdir(parents=True, exist_ok=True)
    server.init()
    server.start()
    try:
        server.create_database()
        yield server
    finally:
        if server.running():
            server.stop()
