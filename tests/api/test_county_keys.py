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
    NOTIFYING_TRIGGERS,
    OWN_KEY_TABLES,
    REFERENCE_TABLES,
    SINGLE_SERVER_TRIGGERS,
    TRUNCATE_GUARDS,
)

CITUS_SQL = Path(__file__).resolve().parents[2] / "db" / "citus.sql"
SHARD_CHECKS_SQL = CITUS_SQL.with_name("shard_checks.sql")

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

# Every trigger of the schema's tables, with what decides whether a Citus shard can run it
# (tgtype: bit 0 row-level, bit 1 before, bit 5 truncate).
TRIGGERS = """
SELECT t.tgname, t.tgrelid::regclass::text AS table_name, t.tgtype,
       (t.tgtype & 1) = 1 AS row_level, t.tgconstraint <> 0 AS constraint_trigger,
       t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL AS transition,
       p.prosrc ILIKE '%pg_notify%' AS notifies
FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
ORDER BY 1"""

BEFORE_TRUNCATE_STATEMENT = 2 | 32


def cluster_kind(trigger: asyncpg.Record) -> str:
    """'shard' (a row-level trigger reading NEW and OLD, which Citus runs on each shard), 'truncate
    guard' (a statement-level BEFORE TRUNCATE), or 'single server' (a constraint trigger, deferred
    or not, one with transition tables, any other statement-level one)."""
    if trigger["constraint_trigger"] or trigger["transition"]:
        return "single server"
    if trigger["row_level"]:
        return "shard"
    return "truncate guard" if trigger["tgtype"] == BEFORE_TRUNCATE_STATEMENT else "single server"


async def _catalog(url: str) -> dict[str, list[asyncpg.Record]]:
    conn = await asyncpg.connect(url)
    try:
        return {
            "tables": await conn.fetch(TABLES),
            "unique": await conn.fetch(UNIQUE_KEYS),
            "foreign": await conn.fetch(FOREIGN_KEYS),
            "triggers": await conn.fetch(TRIGGERS),
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
    assert len(county) >= 40  # the lists name the exceptions, not the rule
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
    assert county - with_primary == set()
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


def _by_kind(triggers: list[asyncpg.Record], kind: str) -> dict[str, str]:
    return {t["tgname"]: t["table_name"] for t in triggers if cluster_kind(t) == kind}


async def test_every_trigger_runs_on_a_shard_or_is_listed_with_its_reason(empty_db):
    """A statement-level trigger, one with a transition table or a constraint trigger (deferred or
    not) holds only on one server: none may be added unless db/distribution.py names it with why,
    and db/citus.sql then refuses to distribute. The TRUNCATE guards are listed and db/citus.sql
    revokes TRUNCATE on their tables; the notifying triggers are listed with how they are heard."""
    triggers = (await _catalog(empty_db))["triggers"]
    assert _by_kind(triggers, "single server") == {name: table for name, (table, _) in SINGLE_SERVER_TRIGGERS.items()}
    assert all(why.strip() for _, why in SINGLE_SERVER_TRIGGERS.values())
    assert _by_kind(triggers, "truncate guard") == TRUNCATE_GUARDS
    notifying = {t["tgname"]: t["table_name"] for t in triggers if t["notifies"]}
    assert notifying == {name: table for name, (table, _) in NOTIFYING_TRIGGERS.items()}
    sql = CITUS_SQL.read_text(encoding="utf-8")
    revoked = re.search(r"REVOKE TRUNCATE ON ([\w, ]+) FROM", sql)
    assert revoked and set(revoked.group(1).replace(" ", "").split(",")) == set(TRUNCATE_GUARDS.values())
    assert "tgconstraint <> 0" in sql and "tgnewtable IS NOT NULL" in sql, "db/citus.sql checks the catalog first"
    assert sql.index("\\ir shard_checks.sql") < sql.index("tgconstraint <> 0"), "after swapping the single-server ones"


async def test_the_shard_checks_replace_every_single_server_trigger(empty_db):
    """db/shard_checks.sql, which db/citus.sql runs first, leaves no trigger a shard cannot run."""
    conn = await asyncpg.connect(empty_db)
    try:
        await conn.execute(SHARD_CHECKS_SQL.read_text(encoding="utf-8"))
    finally:
        await conn.close()
    triggers = (await _catalog(empty_db))["triggers"]
    assert _by_kind(triggers, "single server") == {}
    assert {"journal_line_before_seal": "journal_lines"}.items() <= _by_kind(triggers, "shard").items()


async def test_the_trigger_check_fails_on_a_trigger_a_cluster_cannot_run(empty_db):
    """The check above is not vacuous: a deferred constraint trigger, a statement trigger with a
    transition table and a plain statement trigger, added to county tables, are each caught."""
    conn = await asyncpg.connect(empty_db)
    try:
        await conn.execute(
            """CREATE FUNCTION nothing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
               CREATE CONSTRAINT TRIGGER late AFTER INSERT ON payables DEFERRABLE INITIALLY DEFERRED
                   FOR EACH ROW EXECUTE FUNCTION nothing();
               CREATE TRIGGER set_wise AFTER INSERT ON journal_lines REFERENCING NEW TABLE AS n
                   FOR EACH STATEMENT EXECUTE FUNCTION nothing();
               CREATE TRIGGER per_statement AFTER UPDATE ON households FOR EACH STATEMENT EXECUTE FUNCTION nothing();"""
        )
    finally:
        await conn.close()
    triggers = (await _catalog(empty_db))["triggers"]
    assert _by_kind(triggers, "single server") == {
        "late": "payables",
        "set_wise": "journal_lines",
        "per_statement": "households",
    } | {name: table for name, (table, _) in SINGLE_SERVER_TRIGGERS.items()}


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
