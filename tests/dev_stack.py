"""scripts/dev.sh (what `make dev` runs after `make db`) as a real process group, for the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.support import DEFAULT_JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DevStack:
    """edge_api and the worker through scripts/dev.sh, in a process group of its own (as a
    terminal's foreground job: Ctrl-C signals the whole group). Its output is read as it comes."""

    def __init__(self, db_url: str, **env: str) -> None:
        # A terminal's job gets Ctrl-C. A test run started in the background (nohup, `&`, some CI
        # runners) ignores SIGINT, and an ignored signal is inherited through exec and cannot be
        # trapped by bash: give dev.sh the disposition a terminal would.
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / "dev.sh")],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": db_url,
                "API_PORT": str(self.port),
                "SUPABASE_JWT_SECRET": DEFAULT_JWT_SECRET,
                "WORKER_POLL_SECONDS": "1",
                "STOP_CLUSTER_ON_EXIT": "",
                **env,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        stream = self.process.stdout
        assert stream is not None
        self.reader = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self.reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.process.poll() is None, f"dev.sh exited before printing {text!r}:\n{self.output}"
            assert time.monotonic() < deadline, f"never printed {text!r}:\n{self.output}"
            time.sleep(0.1)

    def ctrl_c(self, timeout: float = 60) -> int:
        """SIGINT to the whole group, as a terminal's Ctrl-C; the exit status."""
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired as expired:
                raise AssertionError(f"dev.sh did not stop within {timeout} s:\n{self.output}") from expired
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
            self.reader.join(timeout=5)
