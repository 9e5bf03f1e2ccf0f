"""The current schema, read back from a migrated database.

    schema.py tree URL DIR         one file per object under DIR (make schema): a table with its
                                   columns, constraints, indexes, triggers, policies, comments and
                                   grants; a function with its comment and grants; a type
    schema.py errors URL FILE      the error code table of FILE (docs/errors.md) from private.error_codes
    schema.py check URL DIR FILE   exit 1 when DIR or FILE is not what `tree`/`errors` write now (CI)
    schema.py compare URL_A URL_B  catalog equivalence of two databases (squashing migrations):
                                   every object pg_dump describes in the project's schemas, plus
                                   the rows and settings pg_dump leaves out (error codes, app
                                   settings, cron jobs, publications, default privileges, queues)

URL is the cluster's superuser (it reads every catalog). Both commands describe a database the
same way, so a squash that changed nothing compares equal, and a reviewer reads a function's
change as the diff of its file. The files are for reading, not for applying: migrations are the
source (supabase/migrations).
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import psycopg

SCHEMAS = ("public", "private")
PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump"
HEADER = re.compile(
    r"^-- Name: (?P<name>.*?); Type: (?P<type>[A-Z ]+); Schema: (?P<schema>[^;]+); Owner: .*$", re.M
)

# What pg_dump does not cover (data, cron, publications, default privileges), as sorted rows.
CATALOG_QUERIES = {
    "error codes": "select code, http_status, description from private.error_codes order by code",
    "app settings": "select key, value, description from private.app_settings order by key",
    "time zone names": (
        "select count(*), md5(string_agg(name, ',' order by name)) from private.timezone_names"
    ),
    "cron jobs": (
        "select jobname, schedule, command, database, username, active from cron.job order by jobname"
    ),
    "publications": (
        "select pubname, schemaname, tablename, attnames::text, rowfilter"
        " from pg_publication_tables order by 1, 2, 3"
    ),
    "publication actions": (
        "select pubname, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate"
        " from pg_publication order by 1"
    ),
    "default privileges": (
        "select pg_get_userbyid(d.defaclrole), coalesce(n.nspname, ''), d.defaclobjtype, d.defaclacl::text"
        " from pg_default_acl as d left join pg_namespace as n on n.oid = d.defaclnamespace order by 1, 2, 3"
    ),
    "schemas": (
        "select nspname, pg_get_userbyid(nspowner), nspacl::text from pg_namespace"
        " where nspname not like 'pg\\_%' and nspname not in ('information_schema', 'supabase_migrations')"
        " order by 1"
    ),
    "extensions": "select extname, extnamespace::regnamespace::text from pg_extension order by 1",
    "queues": "select queue_name, is_partitioned, is_unlogged from pgmq.meta order by 1",
    "event triggers": (
        "select evtname, evtevent, evtfoid::regproc::text, evtenabled from pg_event_trigger order by 1"
    ),
}


def pg_dump(url: str) -> str:
    args = [PG_DUMP, "--schema-only", "--no-tablespaces", *(f"--schema={s}" for s in SCHEMAS), url]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def dump_entries(url: str) -> list[tuple[str, str, str, str]]:
    """(schema, type, name, sql) for every object pg_dump writes, without its volatile header lines."""
    text = pg_dump(url)
    marks = list(HEADER.finditer(text))
    entries = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        body = text[mark.end() : following.start() if following else len(text)]
        body = "\n".join(
            line
            for line in body.splitlines()
            if line != "--" and not line.startswith(("-- ", "\\restrict ", "\\unrestrict "))
        ).strip()
        body = re.sub(r"\n{3,}", "\n\n", body)
        entries.append((mark["schema"], mark["type"], mark["name"], body))
    return entries


def catalog_rows(url: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    with psycopg.connect(url) as conn:
        for title, query in CATALOG_QUERIES.items():
            rows[title] = [
                " | ".join("" if v is None else str(v) for v in row) for row in conn.execute(query)
            ]
    return rows


def describe(url: str) -> dict[str, str]:
    """Every object of the database as key -> text: the unit both commands compare."""
    described = {f"{schema} {kind} {name}": body for schema, kind, name, body in dump_entries(url)}
    for title, rows in catalog_rows(url).items():
        described[f"catalog {title}"] = "\n".join(rows)
    return described


def compare(url_a: str, url_b: str) -> None:
    a, b = describe(url_a), describe(url_b)
    problems = 0
    for key in sorted(a.keys() | b.keys()):
        if key not in b:
            print(f"only in A: {key}")
            problems += 1
        elif key not in a:
            print(f"only in B: {key}")
            problems += 1
        elif a[key] != b[key]:
            problems += 1
            print(f"differs: {key}")
            sys.stdout.writelines(
                difflib.unified_diff(a[key].splitlines(True), b[key].splitlines(True), "A", "B", n=1)
            )
            print()
    kinds = defaultdict(int)
    for key in a:
        kinds[key.split(" ")[1] if not key.startswith("catalog") else "CATALOG ROWS"] += 1
    summary = ", ".join(f"{count} {kind.lower()}" for kind, count in sorted(kinds.items()))
    print(f"compared {len(a)} objects ({summary})")
    if problems:
        sys.exit(f"{problems} differences")
    print("equal")


# -- tree -------------------------------------------------------------------------------------
OWNED_BY_TABLE = {"CONSTRAINT", "FK CONSTRAINT", "DEFAULT", "TRIGGER", "POLICY", "ROW SECURITY"}


def owner_of(schema: str, kind: str, name: str, body: str) -> tuple[str, str] | None:
    """(folder, file stem) an entry belongs to: its table, function or type."""
    if kind in {"TABLE", "VIEW", "MATERIALIZED VIEW", "SEQUENCE"}:
        return "tables", name
    if kind in OWNED_BY_TABLE or kind == "PUBLICATION TABLE":
        return "tables", name.split(" ")[-1] if kind == "PUBLICATION TABLE" else name.split(" ")[0]
    if kind == "INDEX":
        table = re.search(r" ON (?:ONLY )?\S+?\.(\S+) USING ", body)
        return "tables", table.group(1) if table else name
    if kind in {"FUNCTION", "PROCEDURE", "AGGREGATE"}:
        return "functions", name.split("(")[0]
    if kind == "TYPE":
        return "types", name
    if kind in {"COMMENT", "ACL"}:
        target_kind, _, target = name.partition(" ")
        if target_kind in {"TABLE", "VIEW", "SEQUENCE"}:
            return "tables", target
        if target_kind == "COLUMN":
            return "tables", target.split(".")[0]
        if target_kind in {"CONSTRAINT", "POLICY", "TRIGGER"}:
            return "tables", target.rsplit(" ON ", 1)[-1]
        if target_kind in {"FUNCTION", "PROCEDURE"}:
            return "functions", target.split("(")[0]
        if target_kind == "TYPE":
            return "types", target
        if target_kind == "SCHEMA":
            return "schemas", target
        if target_kind == "INDEX":
            return "indexes", target
    if kind == "SCHEMA":
        return "schemas", name
    if kind == "DEFAULT ACL":
        return "schemas", schema
    return None


def tree(url: str, directory: str) -> None:
    root = Path(directory)
    files: dict[Path, list[str]] = defaultdict(list)
    for schema, kind, name, body in dump_entries(url):
        owner = owner_of(schema, kind, name, body)
        if owner is None:
            sys.exit(f"no home for {schema} {kind} {name}")
        folder, stem = owner
        base = root / (schema if schema != "-" else stem) / folder
        files[base / f"{stem}.sql"].append(body)
    if root.exists():
        shutil.rmtree(root)
    for path, bodies in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "-- Generated by `make schema` from the migrated database: for reading, not applying.\n\n"
            + "\n\n".join(bodies)
            + "\n"
        )
    print(f"wrote {len(files)} files under {root}")


# -- errors -----------------------------------------------------------------------------------
ERRORS_BEGIN = (
    "<!-- error codes: generated from private.error_codes by `make schema`; do not edit by hand -->"
)
ERRORS_END = "<!-- end of error codes -->"


def error_table(url: str) -> str:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select code, http_status, description from private.error_codes order by http_status, code"
        ).fetchall()
    lines = ["| code | HTTP | SQLSTATE | meaning |", "| --- | --- | --- | --- |"]
    lines += [f"| `{code}` | {status} | PT{status} | {description} |" for code, status, description in rows]
    return "\n".join(lines)


def with_error_table(url: str, document: str) -> str:
    before, _, rest = document.partition(ERRORS_BEGIN + "\n")
    _, _, after = rest.partition(ERRORS_END)
    if not rest or not after:
        sys.exit(f"the document has no {ERRORS_BEGIN!r} ... {ERRORS_END!r} block")
    return f"{before}{ERRORS_BEGIN}\n{error_table(url)}\n{ERRORS_END}{after}"


def errors(url: str, file: str) -> None:
    path = Path(file)
    path.write_text(with_error_table(url, path.read_text()))
    print(f"wrote the error code table of {path}")


def check(url: str, directory: str, file: str) -> None:
    """CI: the committed schema view and error table are what the migrations produce now."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "schema"
        with contextlib.redirect_stdout(io.StringIO()):
            tree(url, str(fresh))
        diff = subprocess.run(
            ["diff", "-r", "-u", directory, str(fresh)], capture_output=True, text=True
        ).stdout
    stale = [diff] if diff else []
    if Path(file).read_text() != with_error_table(url, Path(file).read_text()):
        stale.append(f"{file}: the error code table differs from private.error_codes")
    if stale:
        sys.stdout.write("\n".join(stale)[:20000])
        sys.exit(f"\n{directory} or {file} is stale: run `make schema` and commit the result")
    print(f"{directory} and {file} match the migrations")


def main(argv: list[str]) -> None:
    commands = {"compare": (compare, 2), "tree": (tree, 2), "errors": (errors, 2), "check": (check, 3)}
    if not argv or argv[0] not in commands or len(argv) - 1 != commands[argv[0]][1]:
        sys.exit(__doc__)
    commands[argv[0]][0](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
