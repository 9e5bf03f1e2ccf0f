"""The demo seed (accounts with a known password) goes only into local databases unless asked for."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DBCTL = ROOT / "scripts" / "dbctl.py"
REMOTE_URL = "postgresql://postgres.abcd:secret@aws-0-eu-west-1.pooler.supabase.com:5432/postgres"
# TEST-NET-1 (RFC 5737): never routed, so a connection attempt fails after connect_timeout.
UNREACHABLE_REMOTE_URL = "postgresql://postgres:secret@192.0.2.1:5432/postgres?connect_timeout=1"


def dbctl(*args: str, allow: bool = False) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in {"ALLOW_DEMO_SEED", "PGHOST"}}
    if allow:
        env["ALLOW_DEMO_SEED"] = "1"
    return subprocess.run(
        [sys.executable, str(DBCTL), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def dbctl_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dbctl", DBCTL)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_refuses_a_remote_database_with_a_clear_message() -> None:
    result = dbctl("seed", REMOTE_URL)
    assert result.returncode != 0
    assert "refusing to load the demo seed into aws-0-eu-west-1.pooler.supabase.com" in result.stderr
    assert "ALLOW_DEMO_SEED=1" in result.stderr
    assert "secret" not in result.stderr


def test_seed_goes_ahead_when_asked_explicitly() -> None:
    # It gets as far as connecting (which fails: the address is unroutable).
    result = dbctl("seed", UNREACHABLE_REMOTE_URL, allow=True)
    assert result.returncode != 0
    assert "refusing" not in result.stderr
    assert "192.0.2.1" in result.stderr


def test_seed_goes_ahead_for_a_local_database(db_url: str) -> None:
    # A local port nobody listens on: the guard lets it through to the connection attempt.
    result = dbctl("seed", "postgresql://postgres:postgres@127.0.0.1:9/postgres")
    assert result.returncode != 0
    assert "refusing" not in result.stderr
    assert "127.0.0.1" in result.stderr


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("postgresql://postgres:postgres@127.0.0.1:54322/postgres", True),
        ("postgresql://postgres:postgres@localhost/postgres", True),
        ("postgresql://postgres:postgres@[::1]:5432/postgres", True),
        ("postgresql:///postgres", True),
        ("postgresql://postgres@/postgres?host=/var/run/postgresql", True),
        ("host=localhost dbname=postgres", True),
        ("postgresql://postgres@db.example.com:5432/postgres?hostaddr=127.0.0.1", True),
        (REMOTE_URL, False),
        ("postgresql://postgres:postgres@db.abcdefgh.supabase.co:5432/postgres", False),
        ("postgresql://postgres:postgres@10.0.0.5/postgres", False),
        ("postgresql://postgres@localhost:5432,db.example.com:5432/postgres", False),
        ("postgresql://postgres@localhost/postgres?hostaddr=203.0.113.7", False),
        ("host=db.example.com dbname=postgres", False),
    ],
)
def test_what_counts_as_local(dbctl_module: ModuleType, url: str, local: bool) -> None:
    assert dbctl_module.is_local_database(url) is local


def test_up_migrates_a_remote_database_but_skips_the_seed(
    dbctl_module: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loaded: list[str] = []
    monkeypatch.delenv("ALLOW_DEMO_SEED", raising=False)
    monkeypatch.setattr(dbctl_module, "seed", loaded.append)
    dbctl_module.seed_if_allowed(REMOTE_URL)
    assert loaded == []
    assert "refusing to load the demo seed" in capsys.readouterr().err
    monkeypatch.setenv("ALLOW_DEMO_SEED", "1")
    dbctl_module.seed_if_allowed(REMOTE_URL)
    assert loaded == [REMOTE_URL]
