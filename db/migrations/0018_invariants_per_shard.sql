-- Every invariant kept by what Citus can run on a county's shard (issue 20, docs/scale-out.md
-- "Invariants on a cluster"): row-level triggers reading NEW and the rows of the same county, and
-- foreign keys leading with county_code. The deferred constraint triggers are gone; the statement
-- triggers with transition tables left (journal_lines' set-wise check, order farming's O5) one
-- server keeps for speed, and db/shard_checks.sql swaps them for their per-row form before
-- distributing.

-- ---- the journal: the header is the entry's seal, written after its lines (L1, L2, L5) ---------------

DROP TRIGGER journal_entry_balanced ON journal_entries;
DROP FUNCTION journal_entry_balanced();
DROP TRIGGER journal_lines_inserted ON journal_lines;
DROP FUNCTION journal_lines_inserted();

-- L1, when the header arrives: its lines are all in (db/ledger.py writes them first), at least two,
-- summing to zero. One index range read of the entry's own lines, on the county's shard.
CREATE FUNCTION journal_entry_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_sum   numeric;
    v_count integer;
BEGIN
    SELECT coalesce(sum(amount_fen), 0), count(*) INTO v_sum, v_count
        FROM journal_lines WHERE county_code = NEW.county_code AND entry_id = NEW.id;
    IF v_count < 2 OR v_sum <> 0 THEN
        RAISE EXCEPTION 'journal entry % does not balance: % lines summing to % fen', NEW.id, v_count, v_sum
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER journal_entry_sealed BEFORE INSERT ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_entry_sealed();

-- L2: once the header is in, the entry's lines are fixed (lines are append-only, so there is no
-- other way to change them), and a line names an account of its county. On one server both are
-- checked set-wise, once per statement (a COPY chunk of 26,000 lines names 250 entries and about as
-- many accounts): a probe per line costs the province run 4-5 times its journal_lines COPY here.
-- A committed line with no header at all is what neither can refuse; verify-ledger reports it.
CREATE FUNCTION journal_lines_checked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT county_code, entry_id FROM new_lines) n
               WHERE EXISTS (SELECT 1 FROM journal_entries e WHERE e.county_code = n.county_code AND e.id = n.entry_id)) THEN
        RAISE EXCEPTION 'a journal entry is sealed: lines are written before its header, never after'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT county_code, account_id FROM new_lines) n
               WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.county_code = n.county_code AND a.id = n.account_id)) THEN
        RAISE EXCEPTION 'journal line names an account that does not exist in its county'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER journal_lines_checked AFTER INSERT ON journal_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION journal_lines_checked();

-- The same two rules per line, for a Citus shard, which runs no statement trigger with a transition
-- table: db/shard_checks.sql (run by db/citus.sql before distributing) swaps journal_lines_checked
-- for this row trigger and a co-located foreign key (county_code, account_id) → accounts.
CREATE FUNCTION journal_line_before_seal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM journal_entries WHERE county_code = NEW.county_code AND id = NEW.entry_id) THEN
        RAISE EXCEPTION 'journal entry % is sealed: lines are written before its header, never after', NEW.entry_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

-- L5: account_balances is written by the posting code (db/ledger.py add_to_balances), one upsert
-- per account and COPY chunk, in the posting's transaction; verify-ledger compares it with the lines.

-- ---- order farming: O5 ------------------------------------------------------------------------------------

-- farming_purchases_have_contracts and farming_lines_have_settlements (0004) stay on one server,
-- where one join per statement is cheaper than a key lookup and row lock per row (a season's
-- 200,000 weighed lines); db/shard_checks.sql swaps them for the co-located foreign keys
-- (county_code, contract_id) → farming_contracts and (county_code, settlement_id) →
-- farming_settlements that a shard checks.

-- ---- the audit head: sealed by the committing code, not by a deferred trigger ---------------------------

-- The first row a transaction writes for a county still locks the county's head (0016), so no other
-- transaction appends to that county's chain until this one ends. The head is moved to the chain's
-- last row just before COMMIT by the code that commits (service/core/audit.py, db/audit.py seal);
-- verify-audit reports a head left behind its chain.
CREATE OR REPLACE FUNCTION audit_append(
    p_county char(12), p_actor text, p_action text, p_type text, p_id text,
    p_before text, p_after text, p_detail jsonb, p_address text
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_seq  bigint;
    v_prev text;
    v_at   timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_hash text;
BEGIN
    IF current_setting('huinong.audit_marked_' || p_county, true) IS DISTINCT FROM '1' THEN
        INSERT INTO audit_heads (county_code, seq, hash) VALUES (p_county, 0, repeat('0', 64))
            ON CONFLICT (county_code) DO NOTHING;
        PERFORM 1 FROM audit_heads WHERE county_code = p_county FOR UPDATE;
        PERFORM set_config('huinong.audit_marked_' || p_county, '1', true);
    END IF;
    SELECT seq, hash INTO v_seq, v_prev FROM audit_log WHERE county_code = p_county ORDER BY seq DESC LIMIT 1;
    IF v_seq IS NULL THEN
        SELECT seq, hash INTO v_seq, v_prev FROM audit_heads WHERE county_code = p_county;
    END IF;
    v_seq := v_seq + 1;
    v_hash := encode(sha256(convert_to(audit_canonical(p_county, v_seq, v_at, p_actor, p_action,
        p_type, p_id, p_before, p_after, p_detail, p_address, v_prev), 'UTF8')), 'hex');
    INSERT INTO audit_log (county_code, seq, at, actor, action, object_type, object_id,
        before_digest, after_digest, detail, address, prev_hash, hash)
    VALUES (p_county, v_seq, v_at, p_actor, p_action, p_type, p_id, p_before, p_after,
        p_detail, p_address, v_prev, v_hash);
    RETURN v_seq;
END $$;

DROP TRIGGER audit_head_at_commit ON audit_commit_marks;
DROP FUNCTION audit_head_at_commit();
-- Its marks were emptied at every commit; a head not yet moved (none should be) is moved now.
DROP TABLE audit_commit_marks;
INSERT INTO audit_heads (county_code, seq, hash)
    SELECT DISTINCT ON (county_code) county_code, seq, hash FROM audit_log ORDER BY county_code, seq DESC
    ON CONFLICT (county_code) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash
        WHERE audit_heads.seq < EXCLUDED.seq;

-- ---- the principal cache's notices (0017), sent from the coordinator only ----------------------------

-- On a Citus cluster users is a reference table with a copy on every node, the coordinator's
-- included, and an update runs this trigger on each copy. A NOTIFY on a worker makes the two-phase
-- commit fail (PREPARE TRANSACTION refuses a transaction that notified) and would go unheard
-- anyway: the serving processes listen on the coordinator, whose own copy sends the notice. On one
-- server there is no Citus and the notice is sent as before. households' shards are on workers
-- only: see docs/scale-out.md, "Who is signed in".
CREATE OR REPLACE FUNCTION notify_principal_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF to_regproc('pg_catalog.citus_is_coordinator') IS NOT NULL THEN
        IF NOT citus_is_coordinator() THEN  -- planned only where Citus is installed
            RETURN NULL;
        END IF;
    END IF;
    PERFORM pg_notify('huinong_principals', OLD.id::text);
    RETURN NULL;
END
$$;
