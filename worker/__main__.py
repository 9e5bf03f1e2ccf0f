import argparse
import logging
import signal
import threading

from worker.loop import run
from worker.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m worker")
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run(Settings(), stop, burst=args.burst)  # type: ignore[call-arg]


if __name__ == "__main__":
    main()
