"""Booking throughput with and without the automation side effects, next to pgbench.

    .venv/bin/python bench/booking_side_effects.py [ADMIN_URL] [--clients 16] [--seconds 20] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL). The
benchmark clones the migrated template `careops_template` into `careops_bench_booking`,
makes one active workspace per client (its owner as the practitioner, open day and night,
a booking type with an intake form attached, SMS on) and measures, one after the other, for
`--seconds` each with `--clients` concurrent clients:

    pgbench          the built-in tpcb-like script (pgbench -M prepared) on its own database
    without effects  book_appointment as anon, the automation triggers disabled
    with effects     book_appointment as anon, every side effect on: a new contact's welcome,
                     the confirmation, the form submission and its request, the conversation,
                     email and SMS each, with their deliver_message jobs (6 messages, 6 jobs)

Each client books free slots of its own workspace (a new email and phone each time) as the
booking page does: begin; set local role anon; request.jwt.claims; book_appointment; commit.
It prints bookings per second and the ratios to pgbench's tps (issue target: >= 0.75 with
effects). It exits 1 only when a sanity check fails (a booking that failed, missing messages).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from dbctl import TEMPLATE_DB, kick_and, with_database  # noqa: E402

from tests.booking_support import BookingWorkspace, create_booking_workspace  # noqa: E402

BENCH_DB = "careops_bench_booking"
PGBENCH_DB = "careops_bench_pgbench"
TARGET_RATIO = 0.75
AUTOMATION_TRIGGERS = {
    "public.contacts": ["contacts_queue_welcome_message"],
    "public.bookings": ["bookings_queue_confirmation", "bookings_send_forms"],
}
BOOK = (
    "select booking_id from public.book_appointment(p_workspace_slug => %s, p_booking_type_id => %s,"
    " p_starts_at => %s, p_name => %s, p_email => %s, p_phone => %s)"
)


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def pgbench_binary() -> str:
    found = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not Path(found).exists():
        sys.exit("pgbench not found (postgresql-client / postgresql-15)")
    return found


def run_pgbench(admin_url: str, clients: int, seconds: int) -> float:
    url = urlparse(with_database(admin_url, PGBENCH_DB))
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    base = [
        pgbench_binary(),
        "-h",
        url.hostname or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username,
    ]
    subprocess.run(  # noqa: S603 (our own pgbench, arguments we built)
        [*base, "-i", "-q", "-s", str(clients), PGBENCH_DB], check=True, env=env, capture_output=True
    )
    result = subprocess.run(  # noqa: S603 (our own pgbench, arguments we built)
        [
            *base,
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            str(min(clients, 4)),
            "-T",
            str(seconds),
            PGBENCH_DB,
        ],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", result.stdout)
    if not match:
        sys.exit(f"could not read pgbench's tps:\n{result.stdout}")
    return float(match.group(1))


class Client(threading.Thread):
    """One booking page visitor after another, on its own connection and workspace."""

    def __init__(
        self, url: str, place: BookingWorkspace, first_slot: datetime, stop: threading.Event
    ) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.place = place
        self.next_slot = first_slot
        self.stop = stop
        self.booked = 0
        self.errors: list[str] = []

    def run(self) -> None:
        with psycopg.connect(self.url) as conn:
            while not self.stop.is_set():
                tag = uuid.uuid4().hex[:12]
                try:
                    with conn.transaction():
                        conn.execute("set local role anon")
                        conn.execute("select set_config('request.jwt.claims', '{\"role\": \"anon\"}', true)")
                        conn.execute(
                            BOOK,
                            [
                                self.place.slug,
                                self.place.booking_type_id,
                                self.next_slot,
                                "Pat Customer",
                                f"pat-{tag}@example.test",
                                f"+3361{int(tag[:6], 16) % 10_000_000:07d}",
                            ],
                            prepare=True,
                        ).fetchone()
                    self.booked += 1
                except psycopg.Error as exc:
                    self.errors.append(exc.diag.message_primary or str(exc))
                self.next_slot += timedelta(minutes=30)


def measure(
    url: str, places: list[BookingWorkspace], first_slot: datetime, seconds: int
) -> tuple[float, int, list[str]]:
    stop = threading.Event()
    clients = [Client(url, place, first_slot, stop) for place in places]
    for client in clients:
        client.start()
    time.sleep(1)  # connections up
    before = sum(client.booked for client in clients)
    started = time.perf_counter()
    time.sleep(seconds)
    after = sum(client.booked for client in clients)
    elapsed = time.perf_counter() - started
    stop.set()
    for client in clients:
        client.join()
    errors = [error for client in clients for error in client.errors]
    return (after - before) / elapsed, sum(client.booked for client in clients), errors


def set_triggers(conn: psycopg.Connection, enabled: bool) -> None:
    for table, triggers in AUTOMATION_TRIGGERS.items():
        for trigger in triggers:
            conn.execute(
                sql.SQL("alter table {} {} trigger {}").format(
                    sql.SQL(table), sql.SQL("enable" if enabled else "disable"), sql.Identifier(trigger)
                )
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")

    drops = [
        sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        for name in (BENCH_DB, PGBENCH_DB)
    ]
    with psycopg.connect(with_database(args.admin_url, "template1"), autocommit=True) as admin:
        for drop in drops:
            admin.execute(drop)
        kick_and(
            admin,
            TEMPLATE_DB,
            sql.SQL("create database {} template {}").format(
                sql.Identifier(BENCH_DB), sql.Identifier(TEMPLATE_DB)
            ),
        )
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(PGBENCH_DB)))
    url = with_database(args.admin_url, BENCH_DB)
    failed = False
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            places = []
            for _ in range(args.clients):
                place = create_booking_workspace(conn, timezone="Europe/Paris")
                form_id = conn.execute(
                    "insert into public.intake_forms (workspace_id, name, fields) values (%s, 'Health', %s)"
                    " returning id",
                    [place.workspace_id, '[{"key": "allergies", "type": "text", "label": "Allergies"}]'],
                ).fetchone()[0]
                conn.execute(
                    "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id)"
                    " values (%s, %s, %s)",
                    [place.workspace_id, place.booking_type_id, form_id],
                )
                conn.execute(
                    "update public.communication_settings set sms_enabled = true,"
                    " sms_from_number = '+33612345678' where workspace_id = %s",
                    [place.workspace_id],
                )
                places.append(place)
            conn.execute("vacuum (analyze)")
            tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )

            log(f"pgbench tpcb-like, {args.clients} clients, {args.seconds} s")
            tps = run_pgbench(args.admin_url, args.clients, args.seconds)

            log("book_appointment without side effects")
            set_triggers(conn, enabled=False)
            without, _, errors_without = measure(url, places, tomorrow, args.seconds)
            set_triggers(conn, enabled=True)

            log("book_appointment with every side effect")
            messages_before = conn.execute("select count(*) from public.messages").fetchone()[0]
            with_effects, booked, errors_with = measure(
                url, places, tomorrow + timedelta(days=100), args.seconds
            )
            messages = conn.execute("select count(*) from public.messages").fetchone()[0] - messages_before
            jobs = conn.execute(
                "select count(*) from pgmq.q_jobs where message ->> 'kind' = 'deliver_message'"
            ).fetchone()[0]
    finally:
        if not args.keep:
            with psycopg.connect(with_database(args.admin_url, "template1"), autocommit=True) as admin:
                for name, drop in zip((BENCH_DB, PGBENCH_DB), drops, strict=True):
                    kick_and(admin, name, drop)

    print()
    print(f"{'run':<28} {'per second':>12} {'ratio to pgbench':>18}")
    print(f"{'pgbench tpcb-like (tps)':<28} {tps:>12.1f} {1:>17.2f}x")
    print(f"{'book_appointment, no effects':<28} {without:>12.1f} {without / tps:>17.2f}x")
    print(f"{'book_appointment, effects':<28} {with_effects:>12.1f} {with_effects / tps:>17.2f}x")
    print()
    print(f"with effects: {booked} bookings wrote {messages} messages and {jobs} deliver_message jobs")
    for label, errors in (("without", errors_without), ("with", errors_with)):
        if errors:
            print(f"SANITY: {len(errors)} bookings failed {label} effects, e.g. {errors[0]}")
            failed = True
    if messages != 6 * booked or jobs != messages:
        print(f"SANITY: expected 6 messages and 6 jobs per booking ({6 * booked}), got {messages} and {jobs}")
        failed = True
    verdict = "PASS" if with_effects / tps >= TARGET_RATIO else "MISS"
    print(
        f"booking throughput with side effects = {with_effects / tps:.2f}x pgbench,"
        f" without = {without / tps:.2f}x (target with >= {TARGET_RATIO}) {verdict}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
