"""A real PgBouncer in transaction mode in front of a database, as hosted Supabase's Supavisor
on port 6543: for the pooler tests (tests/test_pooler.py) and benchmarks.

    with PgBouncer(db_url, pool_size=4) as bouncer:
        bouncer.url  # the same database, user and password, through PgBouncer

It listens on a free loopback port, authenticates clients with SCRAM (the database user's
password, from its own auth file) and hands each transaction a server connection from a pool of
`pool_size` per database and user; session state (SET, prepared statements, advisory locks,
LISTEN) does not survive between transactions. PgBouncer refuses to run as root: as root it runs
as the `postgres` OS user (Debian's packages create it). Debian's pgbouncer is installed by
scripts/provision.sh.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import psycopg

PGBOUNCER = "/usr/sbin/pgbouncer"
RUN_AS = "postgres"  # the OS user PgBouncer runs as when we are root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PgBouncer:
    def __init__(self, db_url: str, pool_size: int = 4, max_client_conn: int = 400) -> None:
        parts = urlsplit(db_url)
        if not (parts.hostname and parts.username and parts.password):
            raise ValueError("PgBouncer needs a TCP URL with a user and password")
        self.target = parts
        self.database = parts.path.lstrip("/") or "postgres"
        self.pool_size = pool_size
        self.max_client_conn = max_client_conn
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="careops-pgbouncer-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        netloc = f"{self.target.username}:{self.target.password}@127.0.0.1:{self.port}"
        return urlunsplit(self.target._replace(netloc=netloc))

    @property
    def log(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text() if path.exists() else ""

    def _write_config(self) -> Path:
        t = self.target
        (self.dir / "userlist.txt").write_text(f'"{t.username}" "{t.password}"\n')
        config = self.dir / "pgbouncer.ini"
        config.write_text(
            f"""[databases]
{self.database} = host={t.hostname} port={t.port or 5432} dbname={self.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {self.dir}/userlist.txt
pool_mode = transaction
default_pool_size = {self.pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = {self.max_client_conn}
ignore_startup_parameters = extra_float_digits
server_check_delay = 0
logfile = {self.dir}/pgbouncer.log
pidfile = {self.dir}/pgbouncer.pid
log_connections = 0
log_disconnections = 0
admin_users = {t.username}
"""
        )
        return config

    def __enter__(self) -> PgBouncer:
        config = self._write_config()
        command = [PGBOUNCER, "-q", str(config)]
        if os.geteuid() == 0:
            shutil.chown(self.dir, RUN_AS)
            for path in self.dir.iterdir():
                shutil.chown(path, RUN_AS)
            command = ["runuser", "-u", RUN_AS, "--", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2) as conn:
                    conn.execute("select 1")
                return self
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"PgBouncer did not start:\n{self.log}") from None
                time.sleep(0.05)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def pools(self) -> list[dict[str, object]]:
        """PgBouncer's SHOW POOLS (its admin console): cl_active, cl_waiting, sv_active, sv_idle, ..."""
        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/pgbouncer", autocommit=True) as admin:
            cursor = admin.cursor()
            cursor.execute("show pools", prepare=False)
            names = [column.name for column in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def servers(self) -> int:
        """Server connections PgBouncer holds to the database now, busy or idle."""
        return sum(
            int(str(pool[key]))
            for pool in self.pools()
            if pool["database"] == self.database
            for key in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")
        )
