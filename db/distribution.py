"""How each table goes onto a Citus cluster (docs/scale-out.md; db/citus.sql does it).

Every table not named below holds a county's data: it is distributed by county_code and co-located
with households, so a county's rows of every table sit on one node and a request about one county
is answered there. Its primary key, every unique index and every foreign key to another county
table lead with county_code (tests/api/test_county_keys.py reads the catalog to hold it).

The other tables are named here, each with why it is placed where it is (regions and
household_numbers have a county_code column but are not a county's rows). A new table that is
neither keyed by county nor named here fails that test.
"""

from __future__ import annotations

DISTRIBUTION_COLUMN = "county_code"

# The table every county table is co-located with.
COLOCATION_ANCHOR = "households"

# Small, read everywhere, joined to county tables: a copy on every node.
REFERENCE_TABLES: dict[str, str] = {
    "regions": "the 行政区划 tree: read by every registry and report query, written by admins only",
    "users": "staff logins and their scope; a few thousand rows, read on every staff request",
    "poverty_lines": "one row per year, read by every eligibility check of every county",
    "schema_migrations": "the migration runner's record, applied on the coordinator",
    "data_key_check": "one row: the HMAC that tells a service its data key is the database's",
}

# Cross-county tables distributed by a key of their own (not co-located with the counties): each
# request reads and writes them by that key alone, one shard each time.
OWN_KEY_TABLES: dict[str, str] = {
    # An Idempotency-Key is claimed before the request's body says which county it concerns; the
    # sender (a user's or a household's id) is known. The claim commits with the county's rows in
    # one distributed transaction (two-phase commit on the cluster).
    "idempotency_keys": "scope",
    # A household signs in with its number only: the number's row says which county to ask.
    "household_numbers": "household_no",
    # The throttle counts failures per login name or address.
    "login_failures": "key",
}

# Triggers Citus does not run on a distributed table: statement-level ones (but the TRUNCATE guards
# below), those with transition tables, constraint triggers (deferred or not). Each invariant is kept
# per county shard (docs/scale-out.md, "Invariants on a cluster"); one server keeps only these,
# trigger → (table, why), which db/shard_checks.sql (run by db/citus.sql) replaces by their per-row
# form before distributing. tests/api/test_county_keys.py fails on any other.
SINGLE_SERVER_TRIGGERS: dict[str, tuple[str, str]] = {
    "journal_lines_checked": (
        "journal_lines",
        "L2 and the lines' accounts checked once per statement (per distinct entry and account) rather "
        "than probed per line: the province run's journal_lines COPY costs 4-5 times less; a shard gets "
        "journal_line_before_seal and the foreign key journal_lines_account_exists instead",
    ),
    "farming_purchases_have_contracts": (
        "farming_purchases",
        "O5 checked with one join per statement rather than a key lookup and row lock per weighed line "
        "(the season's settle ran 38% slower with foreign keys); a shard gets the foreign key "
        "farming_purchases_contract instead",
    ),
    "farming_lines_have_settlements": (
        "farming_settlement_lines",
        "O5 as above, per statement of priced lines; a shard gets the foreign key "
        "farming_settlement_lines_settlement instead",
    ),
}

# Statement-level BEFORE TRUNCATE triggers refusing to empty history, trigger → table. Kept on one
# server, where they stop anyone, the owner included; db/citus.sql moreover revokes TRUNCATE on
# these tables from PUBLIC and from the role distributing them (the service's, which owns the
# schema), so that on the cluster emptying one needs an explicit GRANT first, whatever Citus makes
# of the trigger on the coordinator's table and its shards.
TRUNCATE_GUARDS: dict[str, str] = {
    "audit_log_no_truncate": "audit_log",
    "journal_entries_no_truncate": "journal_entries",
    "journal_lines_no_truncate": "journal_lines",
    "farming_contracts_no_truncate": "farming_contracts",
    "farming_settlements_no_truncate": "farming_settlements",
}

# Row-level triggers that tell the serving processes (pg_notify) that a principal changed
# (migration 0017, service/core/principals.py), trigger → (table, how the notice reaches them on a
# cluster). A NOTIFY is heard by listeners of the node whose transaction sent it.
NOTIFYING_TRIGGERS: dict[str, tuple[str, str]] = {
    "users_principal_changed": (
        "users",
        "a reference table: each node's copy runs the trigger, and only the coordinator's sends the "
        "notice (0018: on a worker a NOTIFY fails the two-phase commit), in the coordinator's own "
        "transaction, where the service listens; db/citus.sql requires the coordinator in the metadata",
    ),
    "households_principal_changed": (
        "households",
        "its shards are on workers, where the trigger sends nothing; the service never changes a household's number, "
        "village or county, so only a change by hand does: it sends pg_notify('huinong_principals', "
        "id) in its own transaction on the coordinator, or is seen within principal_cache_seconds",
    ),
}
