-- Foundation: regions, people, the household registry, the audit log.
-- Every table holding a county's data has county_code (12 digits, the county's code padded
-- with zeros) in its primary key, so the schema can be distributed by county.

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: rows are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TABLE regions (
    code        char(12) PRIMARY KEY CHECK (code ~ '^[0-9]{12}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    level       text NOT NULL CHECK (level IN ('province', 'city', 'county', 'township', 'village')),
    parent_code char(12) REFERENCES regions (code),
    county_code char(12) CHECK (county_code IS NULL OR county_code ~ '^[0-9]{6}0{6}$')
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username      text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.-]{3,64}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'accountant', 'village_reviewer',
                      'township_approver', 'finance_officer', 'finance_approver', 'auditor')),
    region_code   char(12),
    venture_ids   uuid[] NOT NULL DEFAULT '{}',
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE login_failures (
    key text NOT NULL,
    at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);

CREATE TABLE poverty_lines (
    year              integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
    poverty_line_fen  bigint NOT NULL CHECK (poverty_line_fen > 0),
    xiaokang_line_fen bigint NOT NULL CHECK (xiaokang_line_fen > 0),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- 户: a household, known by its head (户主). ID and card numbers are encrypted (AES-GCM) and
-- found by keyed hash; the masked forms are kept for display.
CREATE TABLE households (
    county_code          char(12) NOT NULL,
    id                   uuid NOT NULL DEFAULT gen_random_uuid(),
    household_no         text NOT NULL CHECK (household_no ~ '^[A-Za-z0-9-]{4,40}$'),
    village_code         char(12) NOT NULL REFERENCES regions (code),
    head_name            text NOT NULL,
    head_name_masked     text NOT NULL,
    head_id_enc          bytea NOT NULL,
    head_id_hash         bytea NOT NULL,
    head_id_masked       text NOT NULL,
    members              integer NOT NULL CHECK (members BETWEEN 1 AND 30),
    bank_name            text NOT NULL,
    bank_account_enc     bytea NOT NULL,
    bank_account_hash    bytea NOT NULL,
    bank_account_masked  text NOT NULL,
    phone_enc            bytea,
    phone_masked         text,
    pin_hash             bytea,
    split_from           uuid,
    status               text NOT NULL DEFAULT 'not_registered'
                         CHECK (status IN ('not_registered', 'poor', 'exited', 'xiaokang')),
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id),
    -- one person heads at most one household in a county: duplicated identities are how
    -- subsidies were claimed twice (冒领)
    UNIQUE (county_code, head_id_hash)
);
-- household_no is the login name on phones, so it is unique across the whole service.
CREATE UNIQUE INDEX households_household_no ON households (household_no);
CREATE UNIQUE INDEX households_id ON households (id);
CREATE INDEX households_village ON households (village_code, household_no);

CREATE TABLE household_status_events (
    county_code    char(12) NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    household_id   uuid NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('registered', 'exited', 'returned', 'xiaokang')),
    year           integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    effective_date date NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by    text NOT NULL,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, household_id) REFERENCES households (county_code, id)
);
CREATE INDEX household_status_events_household ON household_status_events (household_id, effective_date);
CREATE TRIGGER household_status_events_append_only BEFORE UPDATE OR DELETE ON household_status_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The audit log: one row per change, written in the change's transaction, hash-chained per
-- county so that an edited or removed row breaks the chain.
CREATE TABLE audit_log (
    county_code   char(12) NOT NULL,
    seq           bigint NOT NULL,
    at            timestamptz NOT NULL,
    actor         text NOT NULL,
    action        text NOT NULL,
    object_type   text NOT NULL,
    object_id     text NOT NULL,
    before_digest text,
    after_digest  text,
    detail        jsonb,
    address       text,
    prev_hash     text NOT NULL,
    hash          text NOT NULL,
    PRIMARY KEY (county_code, seq)
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

CREATE TABLE audit_heads (
    county_code char(12) PRIMARY KEY,
    seq         bigint NOT NULL,
    hash        text NOT NULL
);

CREATE FUNCTION audit_canonical(
    p_county char(12), p_seq bigint, p_at timestamptz, p_actor text, p_action text,
    p_type text, p_id text, p_before text, p_after text, p_detail jsonb, p_address text,
    p_prev text
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(E'\x1f', p_county, p_seq::text,
        to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), p_actor, p_action,
        p_type, p_id, coalesce(p_before, ''), coalesce(p_after, ''),
        coalesce(p_detail::text, ''), coalesce(p_address, ''), p_prev)
$$;

CREATE FUNCTION audit_append(
    p_county char(12), p_actor text, p_action text, p_type text, p_id text,
    p_before text, p_after text, p_detail jsonb, p_address text
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_seq  bigint;
    v_prev text;
    v_at   timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_hash text;
BEGIN
    INSERT INTO audit_heads (county_code, seq, hash)
        VALUES (p_county, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
    SELECT seq, hash INTO v_seq, v_prev FROM audit_heads WHERE county_code = p_county FOR UPDATE;
    v_seq := v_seq + 1;
    v_hash := encode(sha256(convert_to(audit_canonical(p_county, v_seq, v_at, p_actor, p_action,
        p_type, p_id, p_before, p_after, p_detail, p_address, v_prev), 'UTF8')), 'hex');
    INSERT INTO audit_log (county_code, seq, at, actor, action, object_type, object_id,
        before_digest, after_digest, detail, address, prev_hash, hash)
    VALUES (p_county, v_seq, v_at, p_actor, p_action, p_type, p_id, p_before, p_after,
        p_detail, p_address, v_prev, v_hash);
    UPDATE audit_heads SET seq = v_seq, hash = v_hash WHERE county_code = p_county;
    RETURN v_seq;
END $$;
