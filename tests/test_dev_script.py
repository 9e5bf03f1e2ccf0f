"""scripts/dev.sh (`make dev` after `make db`): Ctrl-C stops edge_api and the worker once, gracefully."""

from __future__ import annotations

import socket

from tests.dev_stack import DevStack


def test_ctrl_c_stops_both_gracefully_and_exits_0(db_url: str, queue: str) -> None:
    stack = DevStack(db_url, QUEUE_NAME=queue, EVENT_QUEUE_NAME=queue, LOG_LEVEL="INFO")
    stack.wait_for("make demo")
    stack.wait_for(f"worker on queue {queue!r}")  # the worker is running

    returncode = stack.ctrl_c()

    assert returncode == 0, stack.output
    assert "stopping edge_api and worker" in stack.output
    assert "SIGTERM: finishing the jobs in flight, then exiting" in stack.output
    assert "second" not in stack.output
    assert "SIGINT" not in stack.output
    with socket.socket() as probe:  # edge_api is gone
        assert probe.connect_ex(("127.0.0.1", stack.port)) != 0
