"""docs/errors.md and the error registry (private.error_codes) say the same thing."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
ROW = re.compile(r"^\| `([a-z_]+)` \| (\d{3}) \| PT(\d{3}) \| (.+) \|$")


def documented() -> dict[str, tuple[int, str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            code, status, sqlstate_status, meaning = match.groups()
            assert status == sqlstate_status, line
            rows[code] = (int(status), meaning)
    return rows


def test_docs_list_every_registered_code(conn: psycopg.Connection) -> None:
    registry = {
        code: (status, description)
        for code, status, description in conn.execute(
            "select code, http_status, description from private.error_codes"
        ).fetchall()
    }
    assert documented() == registry


@pytest.mark.parametrize("code", ["slug_taken", "not_authenticated", "invitation_expired"])
def test_raise_error_carries_code_status_and_detail(conn: psycopg.Connection, code: str) -> None:
    status, description = documented()[code]
    with pytest.raises(psycopg.Error) as raised, conn.transaction():
        conn.execute("select private.raise_error(%s)", [code])
    assert raised.value.sqlstate == f"PT{status}"
    assert raised.value.diag.message_primary == code
    assert raised.value.diag.message_detail == description


def test_unknown_codes_are_a_bug_not_a_user_error(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.InternalError_), conn.transaction():
        conn.execute("select private.raise_error('no_such_code')")
