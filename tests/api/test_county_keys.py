"""The schema can be distributed by county (issue 20): read from the catalog of a migrated database,
every county table's primary key, unique indexes and foreign keys lead with county_code, every other
table is named in db/distribution.py, and db/citus.sql places every table the way that list says."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg

from db.distribution import (
    COLOCATION_ANCHOR,
    DISTRIBUTION_COLUMN,
    OWN_KEY_TABLES,
    REFERENCE_TABLES,
    SINGLE_SERVER_TRIGGERS,
)

CITUS_SQL = Path(__file__).resolve().parents[2] / "db" / "citus.sql"

TABLES = """SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
            AND c.relkind IN ('r', 'p') ORDER BY 1"""

# Every unique index (primary keys included) with its columns in key order.
UNIQUE_KEYS = """
SELECT t.relname AS table_name, i.relname AS key_name,
       array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
WHERE x.indisunique AND t.relnamespace = 'public'::regnamespace
ORDER BY 1, 2"""

FOREIGN_KEYS = """
SELECT conrelid::regclass::text AS table_name, confrelid::regclass::text AS referenced, conname,
       array(SELECT a.attname FROM unnest(conkey) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = conrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns,
       array(SELECT a.attname FROM unnest(confkey) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = confrelid AND a.attnum = k.attnum ORDER BY k.n) AS referenced_columns
FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY 1, 3"""

# Triggers a Citus cluster does not run on a distributed table.
CLUSTER_UNSAFE_TRIGGERS = """
SELECT tgname, tgrelid::regclass::text AS table_name FROM pg_trigger
WHERE NOT tgisinternal AND (tgconstraint <> 0 OR tgoldtable IS NOT NULL OR tgnewtable IS NOT NULL)
ORDER BY 1"""


async def _catalog(url: str) -> dict[str, list[asyncpg.Record]]:
    conn = await asyncpg.connect(url)
    try:
        return {
            "tables": await conn.fetch(TABLES),
            "unique": await conn.fetch(UNIQUE_KEYS),
            "foreign": await conn.fetch(FOREIGN_KEYS),
            "triggers": await conn.fetch(CLUSTER_UNSAFE_TRIGGERS),
            "primary": await conn.fetch(
                "SELECT conrelid::regclass::text AS table_name FROM pg_constraint "
                "WHERE contype = 'p' AND connamespace = 'public'::regnamespace"
            ),
        }
    finally:
        await conn.close()


def _county_tables(tables: list[asyncpg.Record]) -> set[str]:
    return {r["relname"] for r in tables} - set(REFERENCE_TABLES) - set(OWN_KEY_TABLES)


async def test_every_county_key_leads_with_county_code(empty_db):
    catalog = await _catalog(empty_db)
    county = _county_tables(catalog["tables"])
    assert len(county) > 40  # the lists name the exceptions, not the rule
    breaches = [
        f"{k['table_name']}.{k['key_name']} {list(k['columns'])}"
        for k in catalog["unique"]
        if k["table_name"] in county and list(k["columns"])[:1] != [DISTRIBUTION_COLUMN]
    ]
    for fk in catalog["foreign"]:
        if fk["referenced"] in REFERENCE_TABLES and fk["table_name"] not in OWN_KEY_TABLES:
            continue  # a county or reference table may refer to a reference table by any column
        leading = (list(fk["columns"])[:1], list(fk["referenced_columns"])[:1])
        if fk["table_name"] not in county or fk["referenced"] not in county or leading != ([DISTRIBUTION_COLUMN],) * 2:
            breaches.append(f"{fk['table_name']}.{fk['conname']} → {fk['referenced']} {list(fk['columns'])}")
    assert breaches == [], "keys a county shard cannot enforce"


async def test_every_county_table_has_a_primary_key_and_every_table_a_place(empty_db):
    catalog = await _catalog(empty_db)
    county = _county_tables(catalog["tables"])
    with_primary = {r["table_name"] for r in catalog["primary"]}
    # audit_commit_marks only carries a mark to commit time and is emptied there: no key to keep.
    assert county - with_primary == {"audit_commit_marks"}
    names = {r["relname"] for r in catalog["tables"]}
    assert set(REFERENCE_TABLES) | set(OWN_KEY_TABLES) <= names, "db/distribution.py names a table that is gone"
    conn = await asyncpg.connect(empty_db)
    try:
        without_county = await conn.fetch(
            """SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
               AND c.relkind IN ('r', 'p') AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attname = $1 AND a.attnotnull)""",
            DISTRIBUTION_COLUMN,
        )
    finally:
        await conn.close()
    unplaced = {r["relname"] for r in without_county} - set(REFERENCE_TABLES) - set(OWN_KEY_TABLES)
    assert unplaced == set(), "tables neither keyed by county nor named in db/distribution.py"


async def test_citus_sql_places_every_table_as_listed(empty_db):
    catalog = await _catalog(empty_db)
    sql = CITUS_SQL.read_text(encoding="utf-8")
    reference = re.findall(r"create_reference_table\('(\w+)'\)", sql)
    distributed = re.findall(r"create_distributed_table\('(\w+)', '(\w+)'(?:, colocate_with => '(\w+)')?\)", sql)
    placed = reference + [name for name, _, _ in distributed]
    assert sorted(placed) == sorted(r["relname"] for r in catalog["tables"]), "each table exactly once"
    assert set(reference) == set(REFERENCE_TABLES)
    county = _county_tables(catalog["tables"])
    for name, column, colocate in distributed:
        if name in OWN_KEY_TABLES:
            assert (column, colocate) == (OWN_KEY_TABLES[name], "none"), name
        else:
            assert name in county and column == DISTRIBUTION_COLUMN, name
            assert colocate == ("" if name == COLOCATION_ANCHOR else COLOCATION_ANCHOR), name
    order = [name for name, _, _ in distributed]
    for fk in catalog["foreign"]:
        if fk["referenced"] in county and fk["referenced"] != fk["table_name"]:
            assert order.index(fk["referenced"]) < order.index(fk["table_name"]), fk["conname"]


async def test_triggers_a_cluster_cannot_run_are_the_designed_ones(empty_db):
    """A statement trigger with a transition table or a deferred constraint trigger holds only on one
    server; each one has its per-shard replacement written down (docs/scale-out.md)."""
    catalog = await _catalog(empty_db)
    assert {r["tgname"]: r["table_name"] for r in catalog["triggers"]} == SINGLE_SERVER_TRIGGERS
    sql = CITUS_SQL.read_text(encoding="utf-8")
    assert all(f"'{name}'" in sql for name in SINGLE_SERVER_TRIGGERS), (
        "db/citus.sql must refuse to run while any is left"
    )


async def test_a_household_number_stays_unique_across_counties_and_signs_in_to_its_county(api):
    """households holds the number unique per county only; household_numbers keeps it unique for
    the whole service (it is a login name) and tells the login which county to ask."""
    from tests.api.test_household_import import household_json

    far_county, far_township, far_village = "621222000000", "621222100000", "621222100201"
    for code, name, level, parent in (
        (far_county, "文县", "county", "621200000000"),
        (far_township, "城关镇", "township", far_county),
        (far_village, "东峪村", "village", far_township),
    ):
        r = await api.as_(
            "admin", "PUT", f"/regions/{code}", json={"name": name, "level": level, "parent_code": parent}
        )
        assert r.status_code == 200, r.text
    taken = household_json(71_001, village=far_village, household_no="621223100201-001")
    r = await api.as_("admin", "POST", "/households", json=taken)
    assert r.status_code == 422 and "621223100201-001" in r.text, r.text
    r = await api.as_("admin", "POST", "/households", json=household_json(71_002, village=far_village))
    assert r.status_code == 201, r.text
    created = r.json()
    conn = await api.connect()
    try:
        placed = await conn.fetchrow(
            "SELECT county_code, household_id FROM household_numbers WHERE household_no = $1", created["household_no"]
        )
    finally:
        await conn.close()
    assert (placed["county_code"], str(placed["household_id"])) == (far_county, created["id"])
    token = await api.household_login(created["household_no"], "246810")
    r = await api.client.get(f"/households/{created['id']}", headers=token)
    assert r.status_code == 200 and r.json()["county_code"] == far_county, r.text
