"""`make db` notices an applied migration whose text changed (scripts/dbctl.py changed_migrations)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "supabase" / "migrations"


@pytest.fixture(scope="module")
def dbctl() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dbctl_changes", ROOT / "scripts" / "dbctl.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy)
    return copy


def test_the_applied_migrations_are_the_files(dbctl: ModuleType, db_url: str, migrations: Path) -> None:
    assert dbctl.changed_migrations(db_url, migrations) == []


def test_reformatting_is_not_a_change(dbctl: ModuleType, db_url: str, migrations: Path) -> None:
    first = sorted(migrations.glob("*.sql"))[0]
    first.write_text(first.read_text().replace("\n", "\n\n"))
    assert dbctl.changed_migrations(db_url, migrations) == []


def test_an_edited_definition_is_a_change(dbctl: ModuleType, db_url: str, migrations: Path) -> None:
    booking = next(migrations.glob("*_booking.sql"))
    booking.write_text(
        booking.read_text().replace("'Appointments: one contact", "'Appointments: a contact", 1)
    )
    assert dbctl.changed_migrations(db_url, migrations) == [
        f"{booking.name} (its text changed since it was applied)"
    ]


def test_a_removed_migration_is_a_change(dbctl: ModuleType, db_url: str, migrations: Path) -> None:
    dashboard = next(migrations.glob("*_dashboard.sql"))
    dashboard.unlink()
    version, name = dashboard.stem.split("_", 1)
    assert dbctl.changed_migrations(db_url, migrations) == [
        f"{version}_{name} (no longer in supabase/migrations)"
    ]
