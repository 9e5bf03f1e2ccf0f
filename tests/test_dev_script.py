"""scripts/dev.sh (`make dev` after `make db`): Ctrl-C stops edge_api and the worker once, gracefully."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support import DEFAULT_JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def queue(autocommit_conn: psycopg.Connection) -> Iterator[str]:
    name = f"dev_sh_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute("select pgmq.create(%s)", [name])
    yield name
    autocommit_conn.execute("select pgmq.drop_queue(%s)", [name])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Output:
    """The merged output of a process, read on a thread as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        self.thread = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self.thread.start()

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert time.monotonic() < deadline, f"never printed {text!r}:\n{self.text}"
            time.sleep(0.1)

    @property
    def text(self) -> str:
        return "".join(self.lines)


def test_ctrl_c_stops_both_gracefully_and_exits_0(db_url: str, queue: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "API_PORT": str(port),
        "QUEUE_NAME": queue,
        "WORKER_POLL_SECONDS": "1",
        "LOG_LEVEL": "INFO",
        "SUPABASE_JWT_SECRET": DEFAULT_JWT_SECRET,
        "STOP_CLUSTER_ON_EXIT": "",
    }
    # Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "dev.sh")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = Output(process)
    try:
        output.wait_for("make demo")
        output.wait_for(f"worker on queue {queue!r}")  # the worker is running
        os.killpg(process.pid, signal.SIGINT)
        returncode = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output.thread.join(timeout=5)

    assert returncode == 0, output.text
    assert "stopping edge_api and worker" in output.text
    assert "SIGTERM: finishing the jobs in flight, then exiting" in output.text
    assert "second" not in output.text
    assert "SIGINT" not in output.text
    with socket.socket() as probe:  # edge_api is gone
        assert probe.connect_ex(("127.0.0.1", port)) != 0
