-- audit_append took the chain's head from audit_heads and updated that row once per audit row;
-- many updates of one row in one transaction leave a chain of row versions that each later
-- update walks, so a transaction writing thousands of audit rows slowed quadratically.
-- Now the county's chain is serialised by a transaction-scoped advisory lock, the head is read
-- from the last audit row itself (an index lookup), and audit_heads is written once per
-- transaction and county, at commit, by a deferred trigger on a mark the first audit row of the
-- transaction leaves. audit_heads still anchors the tail, so a removed last row is detected.

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
    PERFORM pg_advisory_xact_lock(hashtextextended('huinong.audit.' || p_county, 0));
    SELECT seq, hash INTO v_seq, v_prev FROM audit_log WHERE county_code = p_county ORDER BY seq DESC LIMIT 1;
    IF v_seq IS NULL THEN
        SELECT seq, hash INTO v_seq, v_prev FROM audit_heads WHERE county_code = p_county;
        v_seq := coalesce(v_seq, 0);
        v_prev := coalesce(v_prev, repeat('0', 64));
    END IF;
    v_seq := v_seq + 1;
    v_hash := encode(sha256(convert_to(audit_canonical(p_county, v_seq, v_at, p_actor, p_action,
        p_type, p_id, p_before, p_after, p_detail, p_address, v_prev), 'UTF8')), 'hex');
    INSERT INTO audit_log (county_code, seq, at, actor, action, object_type, object_id,
        before_digest, after_digest, detail, address, prev_hash, hash)
    VALUES (p_county, v_seq, v_at, p_actor, p_action, p_type, p_id, p_before, p_after,
        p_detail, p_address, v_prev, v_hash);
    IF current_setting('huinong.audit_marked_' || p_county, true) IS DISTINCT FROM '1' THEN
        PERFORM set_config('huinong.audit_marked_' || p_county, '1', true);
        INSERT INTO audit_commit_marks (county_code) VALUES (p_county);
    END IF;
    RETURN v_seq;
END $$;

CREATE TABLE audit_commit_marks (
    county_code char(12) NOT NULL
);

CREATE FUNCTION audit_head_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_heads (county_code, seq, hash)
        SELECT county_code, seq, hash FROM audit_log WHERE county_code = NEW.county_code
        ORDER BY seq DESC LIMIT 1
        ON CONFLICT (county_code) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
    DELETE FROM audit_commit_marks WHERE county_code = NEW.county_code;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER audit_head_at_commit AFTER INSERT ON audit_commit_marks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_head_at_commit();
