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

# Triggers Citus does not run on distributed tables (statement-level with transition tables,
# deferred constraint triggers), kept as they are on one server. docs/scale-out.md ("Invariants on
# a cluster") gives each one's replacement per county shard; the catalog test fails on any other,
# so a new one is designed for the cluster before it lands.
SINGLE_SERVER_TRIGGERS: dict[str, str] = {
    "journal_lines_inserted": "journal_lines",
    "journal_entry_balanced": "journal_entries",
    "farming_purchases_have_contracts": "farming_purchases",
    "farming_lines_have_settlements": "farming_settlement_lines",
    "audit_head_at_commit": "audit_commit_marks",
}
