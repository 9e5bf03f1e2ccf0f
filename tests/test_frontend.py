"""The frontend's contract: generated types match the API, and the typed supabase-js calls compile.

`scripts/types.sh check` regenerates supabase/types/database.types.ts (postgres-meta, from the
migrated test database) and frontend/src/edge-api.types.ts (edge_api's OpenAPI) and compares
them with the committed files; `tsc --noEmit -p frontend` checks every call against them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import psycopg

from tests.booking_support import create_booking_workspace
from tests.support import Actor, rpc

ROOT = Path(__file__).resolve().parent.parent
TSC = ROOT / "node_modules" / ".bin" / "tsc"
DATABASE_TYPES = Path("supabase/types/database.types.ts")


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, timeout=300)


def checkout_copy(tmp_path: Path) -> Path:
    """The files the type check and the generator read, in a scratch tree sharing the installed tools."""
    copy = tmp_path / "checkout"
    for part in ("frontend", "supabase/types", "scripts", "edge_api", "worker"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    for tool in ("node_modules", ".venv"):
        (copy / tool).symlink_to(ROOT / tool)
    return copy


def test_the_committed_types_are_what_the_schema_generates(db_url: str) -> None:
    result = run("scripts/types.sh", "check", db_url)
    assert result.returncode == 0, f"{result.stderr}\n{result.stdout[-4000:]}"


def test_every_public_function_returns_a_described_type() -> None:
    """OUT parameters make a bare record, which the generator types as Record<string, unknown>:
    public functions that return a row declare `returns table (...)` (read with `.single()`)."""
    types = (ROOT / "supabase/types/database.types.ts").read_text()
    assert "Record<string, unknown>" not in types


def test_the_frontend_calls_type_check() -> None:
    result = run(TSC, "--noEmit", "-p", "frontend")
    assert result.returncode == 0, result.stdout


def test_a_renamed_rpc_argument_breaks_the_frontend_build(tmp_path: Path) -> None:
    # What a migration renaming book_appointment's p_starts_at does once `make types` ran.
    copy = checkout_copy(tmp_path)
    types = copy / DATABASE_TYPES
    text = types.read_text()
    assert text.count("p_starts_at: string") == 1
    types.write_text(text.replace("p_starts_at: string", "p_start_at: string"))

    result = run(TSC, "--noEmit", "-p", "frontend", cwd=copy)

    assert result.returncode != 0
    assert "src/booking.ts" in result.stdout
    assert "p_starts_at" in result.stdout


def test_a_changed_dashboard_field_breaks_the_frontend_build(tmp_path: Path) -> None:
    copy = checkout_copy(tmp_path)
    (copy / "frontend/src/probe.ts").write_text(
        "import type { DashboardStats } from './dashboard'\n"
        "export const today = (stats: DashboardStats): number => stats.bookings.today\n"
        "export const gone = (stats: DashboardStats): number => stats.bookings.tomorrow\n"
    )

    result = run(TSC, "--noEmit", "-p", "frontend", cwd=copy)

    assert result.returncode != 0
    assert "probe.ts(3," in result.stdout
    assert "tomorrow" in result.stdout


def test_the_json_answers_typed_by_hand_fit_their_types(conn: psycopg.Connection, tmp_path: Path) -> None:
    """get_booking_page and the activation RPCs return jsonb (the generator says Json); the frontend
    types them by hand (BookingPage, ActivationReport). Real answers, as object literals, must fit
    them exactly: tsc rejects a missing field, a wrong type and, in a literal, an unknown field."""
    place = create_booking_workspace(conn)
    owner = Actor.user(place.users[0])
    page = rpc(conn, Actor.anon(), "get_booking_page", p_workspace_slug=place.slug)[0][0]
    status = rpc(conn, owner, "workspace_activation_status", p_workspace_id=place.workspace_id)[0][0]
    activated = rpc(conn, owner, "activate_workspace", p_workspace_id=place.workspace_id)[0][0]
    assert page["booking_types"][0]["practitioners"], page
    copy = checkout_copy(tmp_path)
    (copy / "frontend/src/probe.ts").write_text(
        "import type { BookingPage } from './booking'\n"
        "import type { ActivationReport } from './onboarding'\n"
        f"export const page: BookingPage = {json.dumps(page)}\n"
        f"export const status: ActivationReport = {json.dumps(status)}\n"
        f"export const activated: ActivationReport = {json.dumps(activated)}\n"
        "// The check itself: a field the types do not know is refused.\n"
        "// @ts-expect-error\n"
        f"export const unknown: BookingPage = {json.dumps({**page, 'opening_hours': []})}\n"
    )

    result = run(TSC, "--noEmit", "-p", "frontend", cwd=copy)

    assert result.returncode == 0, result.stdout


def test_stale_types_fail_the_check(db_url: str, tmp_path: Path) -> None:
    copy = checkout_copy(tmp_path)
    types = copy / DATABASE_TYPES
    types.write_text(types.read_text().replace("p_starts_at: string", "p_start_at: string"))

    result = run(copy / "scripts/types.sh", "check", db_url, cwd=copy)

    assert result.returncode == 1
    assert "Run `make types`" in result.stderr
    assert "+          p_starts_at: string" in result.stdout


def test_make_help_prints_the_api_port() -> None:
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run(
        [make, "--no-print-directory", "help", "API_PORT=8123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "MAKEFLAGS": ""},
        timeout=30,
    )
    assert result.returncode == 0
    assert "edge_api on :8123" in result.stdout
    assert "$(" not in result.stdout
