-- Distribute a migrated Huinong database on a Citus cluster (docs/scale-out.md).
--
-- Run on the coordinator, as the database owner, after `python -m service migrate` and with the
-- workers added (SELECT citus_add_node(...)). Every table is named once: reference tables first,
-- then the county tables, each distributed by county_code and co-located with households (a
-- referenced table before the tables referring to it), then the cross-county tables distributed by
-- a key of their own. db/distribution.py lists which is which; tests/api/test_county_keys.py checks
-- that this file names every table of the catalog the way that list says.
--
-- Run on Citus 13.0 (PostgreSQL 15) on 2026-12-01: a coordinator in the metadata and two workers,
-- then seed-demo, verify-ledger and verify-audit (docs/scale-out.md, "Tried on Citus"). The only psql
-- meta-commands here are the two below (stop on error, include a file): the cluster's opt-in test
-- expands them itself and sends the rest through asyncpg.

\set ON_ERROR_STOP on

-- The checks one server keeps set-wise, swapped for their per-line form a shard runs.
\ir shard_checks.sql

-- Every trigger must be one a shard can run (docs/scale-out.md, "Invariants on a cluster"): no
-- constraint trigger, none with a transition table, no statement-level one but the TRUNCATE guards
-- (db/distribution.py SINGLE_SERVER_TRIGGERS names those one server keeps; shard_checks.sql has just
-- replaced them). Stop rather than distribute a ledger without its checks.
DO $$
DECLARE
    v_left text;
BEGIN
    SELECT string_agg(t.tgname || ' on ' || t.tgrelid::regclass::text, ', ') INTO v_left
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
      AND (t.tgconstraint <> 0 OR t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL
           OR ((t.tgtype & 1) = 0 AND t.tgtype <> (2 | 32)));
    IF v_left IS NOT NULL THEN
        RAISE EXCEPTION 'triggers a shard cannot run (docs/scale-out.md): %', v_left;
    END IF;
END $$;

CREATE EXTENSION IF NOT EXISTS citus;

-- Row-level triggers run on each shard: those reading only NEW and OLD (append-only, state
-- transitions), and the journal's seal, which reads the same county's rows of a co-located table
-- (a header its lines, a line its header): on the shard's own node.
SET citus.enable_unsafe_triggers = on;
-- 830 counties on 32 nodes: 128 shards, four per node, about 6-7 counties a shard.
SET citus.shard_count = 128;
-- With the coordinator in the metadata, making regions a reference table would otherwise turn every
-- table with a foreign key to regions into a Citus local table, which cannot then be distributed;
-- create_distributed_table recreates those foreign keys to the reference table's shards itself.
SET citus.enable_local_reference_table_foreign_keys = off;

-- users notifies the serving processes of a changed principal from a row trigger (migration 0017);
-- the service listens on the coordinator, so the reference table needs a placement there: an update
-- runs the trigger on every copy, and only the coordinator's notifies (migration 0018: a NOTIFY on a
-- worker fails the two-phase commit), in the coordinator's own transaction (db/distribution.py
-- NOTIFYING_TRIGGERS).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE groupid = 0) THEN
        RAISE EXCEPTION 'add the coordinator to the metadata first: SELECT citus_set_coordinator_host(''<host>'', <port>)';
    END IF;
END $$;

BEGIN;

-- ---- reference tables: a copy on every node --------------------------------------------------------
SELECT create_reference_table('regions');
SELECT create_reference_table('users');
SELECT create_reference_table('poverty_lines');
SELECT create_reference_table('schema_migrations');
SELECT create_reference_table('data_key_check');

-- ---- county tables: by county_code, co-located with households ----------------------------------------
SELECT create_distributed_table('households', 'county_code');
SELECT create_distributed_table('household_status_events', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('ventures', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('venture_members', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('share_movements', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('share_certificates', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('subsidies', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('member_account_movements', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('trades', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('reallocation_proposals', 'county_code', colocate_with => 'households');

SELECT create_distributed_table('accounts', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('account_balances', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('journal_entries', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('journal_lines', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('payables', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('payable_payments', 'county_code', colocate_with => 'households');

SELECT create_distributed_table('distributions', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('distribution_lines', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('income_statements', 'county_code', colocate_with => 'households');

SELECT create_distributed_table('farming_contracts', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('farming_advances', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('farming_purchases', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('farming_settlements', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('farming_settlement_lines', 'county_code', colocate_with => 'households');

SELECT create_distributed_table('award_programs', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('award_applications', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('award_reviews', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('award_serial_counters', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('awards', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('cross_check_imports', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('cross_check_entries', 'county_code', colocate_with => 'households');

SELECT create_distributed_table('notices', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('notice_subjects', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('objections', 'county_code', colocate_with => 'households');

SELECT create_distributed_table('payment_batches', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('payment_batch_lines', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('payment_returns', 'county_code', colocate_with => 'households');

SELECT create_distributed_table('imported_files', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('audit_log', 'county_code', colocate_with => 'households');
SELECT create_distributed_table('audit_heads', 'county_code', colocate_with => 'households');

-- ---- cross-county tables: a key of their own ---------------------------------------------------------
SELECT create_distributed_table('idempotency_keys', 'scope', colocate_with => 'none');
SELECT create_distributed_table('household_numbers', 'household_no', colocate_with => 'none');
SELECT create_distributed_table('login_failures', 'key', colocate_with => 'none');

-- ---- functions run where the county's rows are ---------------------------------------------------------
-- audit_append reads the county's chain tail and locks its head row: pushed to the node holding the
-- county's shard, it runs there as one local transaction step.
SELECT create_distributed_function(
    'audit_append(char, text, text, text, text, text, text, jsonb, text)', 'p_county',
    colocate_with => 'audit_log');

-- ---- history is not emptied -----------------------------------------------------------------------
-- The BEFORE TRUNCATE guards (db/distribution.py TRUNCATE_GUARDS) stay; emptying these tables also
-- needs TRUNCATE granted back first, by the owner (a superuser bypasses both, as on one server).
REVOKE TRUNCATE ON audit_log, journal_entries, journal_lines, farming_contracts, farming_settlements FROM PUBLIC, CURRENT_USER;

COMMIT;
