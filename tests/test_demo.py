"""`make demo` end to end: the day in the life against a running stack (scripts/dev.sh: edge_api and
the worker), twice, on the test database. Waits on the clock (a visit placed at the next open minute
is completed once it starts; a booking 24 h ahead falls due for its reminder), hence `slow`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.dev_stack import DevStack

ROOT = Path(__file__).resolve().parent.parent
TWILIO_TOKEN = "careops-local-twilio-auth-token"
RESEND_SECRET = "whsec_Y2FyZW9wcy1sb2NhbC1yZXNlbmQtd2ViaG9vay1rZXkh"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(db_url: str) -> Iterator[str]:
    """edge_api (webhooks on, with `make dev`'s local secrets) and the worker on the `jobs` queue."""
    dev = DevStack(db_url, TWILIO_AUTH_TOKEN=TWILIO_TOKEN, RESEND_WEBHOOK_SECRET=RESEND_SECRET)
    try:
        dev.wait_for("make demo")
        yield dev.api_url
    finally:
        dev.ctrl_c()


def run_demo(
    db_url: str, api_url: str, summary: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = subprocess.run(
        [
            *(sys.executable, "scripts/demo.py", "--database-url", db_url, "--api-url", api_url),
            *("--twilio-auth-token", TWILIO_TOKEN, "--resend-webhook-secret", RESEND_SECRET),
            *("--summary", str(summary)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result, json.loads(summary.read_text())


def test_a_day_in_the_life_twice(db_url: str, stack: str, tmp_path: Path) -> None:
    runs = [run_demo(db_url, stack, tmp_path / f"run{n}.json") for n in (1, 2)]

    assert runs[0][1]["workspace_id"] != runs[1][1]["workspace_id"]
    with psycopg.connect(db_url) as conn:
        for result, summary in runs:
            for part in ("1. Owner onboarding", "5. Customers write in", "8. The sweeps"):
                assert part in result.stdout
            stats = summary["dashboard"]
            assert stats["workspace"]["status"] == "active"
            assert stats["bookings"]["last_30_days"]["completed"] == 1
            assert stats["bookings"]["next_7_days"] >= 6
            assert stats["leads"]["new_contacts_7_days"] == 11  # 10 booked, 1 wrote in
            assert (stats["leads"]["unread_conversations"], stats["leads"]["unread_messages"]) == (1, 1)
            assert stats["forms"]["completed_30_days"] == 1
            assert [item["name"] for item in stats["inventory"]["low_stock"]] == ["Wound dressings"]
            assert stats["alerts"]["open_by_kind"] == {"low_stock": 1}
            workspace = summary["workspace_id"]

            def count(table: str, where: str, ws: str = workspace) -> int:
                query = f"select count(*) from public.{table} where workspace_id = %s and {where}"
                row = conn.execute(query, [ws]).fetchone()
                assert row is not None
                return int(row[0])

            assert count("bookings", "status = 'cancelled'") == 1
            assert count("messages", "direction = 'inbound'") == 3  # 2 SMS, 1 email
            assert count("messages", "kind = 'manual' and status = 'sent'") == 2  # Sam's replies, delivered
            assert count("messages", "status in ('queued', 'sending', 'failed')") == 0
            reminders = count("messages", "template_kind = 'reminder' and status = 'sent'")
            paused = count("messages", "skip_reason = 'automation_paused'")
            assert reminders >= 1
            assert paused >= 1
