-- County keys (issue 20): every table holding a county's data can be a Citus table distributed by
-- county_code, its rows co-located with the county's other rows (docs/scale-out.md, db/citus.sql).
-- Citus enforces a unique index or a foreign key only when it holds the distribution column, so
-- county_code now leads every unique index and foreign key between county tables:
--
--   * the unique indexes on id alone become plain indexes of the same name: ids are random UUIDs
--     (gen_random_uuid, uuid4), unique by construction, and each table's primary key
--     (county_code, id) is what the database enforces. A lookup by id alone still finds the row
--     through the index; on Citus it is answered by every shard (docs/scale-out.md, "Routing").
--   * a venture's collective and its household members are unique within the venture, which lives
--     in one county: the keys gain county_code and lose nothing.
--   * household_no is the household's login name on phones and must stay unique across the whole
--     service. households keeps it unique per county, and household_numbers, a table keyed by the
--     number itself (distributed by household_no on Citus), holds it once for all counties and
--     says in which county the household lives, so a login finds its county from what it types.
--
-- The audit chain is serialised per county by a lock on the county's audit_heads row instead of an
-- advisory lock: an advisory lock is held by whichever node runs the statement, a row lock by the
-- node holding the county's rows, so the chain stays one line per county on a cluster as here.

-- ---- unique on id alone → plain indexes -----------------------------------------------------------

DROP INDEX households_id;
CREATE INDEX households_id ON households (id);
DROP INDEX ventures_id;
CREATE INDEX ventures_id ON ventures (id);
DROP INDEX venture_members_id;
CREATE INDEX venture_members_id ON venture_members (id);
DROP INDEX farming_contracts_id;
CREATE INDEX farming_contracts_id ON farming_contracts (id);
DROP INDEX farming_settlements_id;
CREATE INDEX farming_settlements_id ON farming_settlements (id);
DROP INDEX award_programs_id;
CREATE INDEX award_programs_id ON award_programs (id);
DROP INDEX award_applications_id;
CREATE INDEX award_applications_id ON award_applications (id);
DROP INDEX notices_id;
CREATE INDEX notices_id ON notices (id);
DROP INDEX objections_id;
CREATE INDEX objections_id ON objections (id);
DROP INDEX payment_batches_id;
CREATE INDEX payment_batches_id ON payment_batches (id);
DROP INDEX distributions_id;
CREATE INDEX distributions_id ON distributions (id);

-- ---- a venture's members -----------------------------------------------------------------------------

DROP INDEX venture_members_household;
CREATE UNIQUE INDEX venture_members_household ON venture_members (county_code, venture_id, household_id)
    WHERE household_id IS NOT NULL;
DROP INDEX venture_members_collective;
CREATE UNIQUE INDEX venture_members_collective ON venture_members (county_code, venture_id)
    WHERE kind = 'collective';

-- ---- household numbers ---------------------------------------------------------------------------------

DROP INDEX households_household_no;
ALTER TABLE households ADD CONSTRAINT households_county_household_no UNIQUE (county_code, household_no);
-- The registry's lists and the login look a number up without its county on one server.
CREATE INDEX households_household_no ON households (household_no);

-- 户号: one row per household number of the whole service, written with the household (the same
-- COPY path, db/registry.py). No foreign key: on Citus the two tables are distributed by different
-- columns, and households are never deleted.
CREATE TABLE household_numbers (
    household_no text PRIMARY KEY,
    county_code  char(12) NOT NULL CHECK (county_code ~ '^[0-9]{6}0{6}$'),
    household_id uuid NOT NULL
);
INSERT INTO household_numbers (household_no, county_code, household_id)
    SELECT household_no, county_code, id FROM households;

-- ---- the audit chain, locked by its head row --------------------------------------------------------

-- The first row a transaction writes for a county locks the county's head (creating it at seq 0 for
-- a county's first row); the transaction's later rows for that county find the lock theirs. The
-- mark that has audit_heads written at commit (migration 0009) is left by the same first row. A
-- savepoint rolled back takes its lock and its mark with it, so the next row takes both again.
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
        INSERT INTO audit_commit_marks (county_code) VALUES (p_county);
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
