"""worker: drains the pgmq jobs queue and hands each job to its registered handler.

SIGTERM or SIGINT: stop reading, let in-flight jobs finish (WORKER_SHUTDOWN_GRACE_SECONDS),
release what is left (pgmq.set_vt 0), exit. A second signal exits at once (jobs in flight come
back after their visibility timeout).
"""

import argparse
import logging
import os
import signal
import sys
import threading
from types import FrameType

from worker.loop import run
from worker.settings import Settings

log = logging.getLogger("worker")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m worker")
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    args = parser.parse_args()
    settings = Settings()  # type: ignore[call-arg]
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("second %s: exiting now", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(1)
        log.info("%s: finishing the jobs in flight, then exiting", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    totals = run(settings, stop, burst=args.burst)
    if totals.abandoned:
        # Their threads are still running and would hold the interpreter open; they were released.
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
