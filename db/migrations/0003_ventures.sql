-- Ventures (经营主体), their members, the share register and member accounts (成员账户).

CREATE TABLE ventures (
    county_code            char(12) NOT NULL,
    id                     uuid NOT NULL DEFAULT gen_random_uuid(),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    model                  text NOT NULL CHECK (model IN ('branch_company', 'cooperative', 'enterprise')),
    village_code           char(12) NOT NULL REFERENCES regions (code),
    registered_capital_fen bigint NOT NULL CHECK (registered_capital_fen >= 0),
    record_date_mmdd       char(5) NOT NULL CHECK (record_date_mmdd ~ '^[01][0-9]-[0-3][0-9]$'),
    charter                jsonb NOT NULL,
    next_register_no       bigint NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id)
);
CREATE UNIQUE INDEX ventures_id ON ventures (id);

CREATE TABLE venture_members (
    county_code  char(12) NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    venture_id   uuid NOT NULL,
    member_no    integer NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('collective', 'household', 'person', 'organization')),
    household_id uuid,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, venture_id, member_no),
    FOREIGN KEY (county_code, venture_id) REFERENCES ventures (county_code, id),
    FOREIGN KEY (county_code, household_id) REFERENCES households (county_code, id),
    CHECK ((kind = 'household') = (household_id IS NOT NULL))
);
CREATE UNIQUE INDEX venture_members_id ON venture_members (id);
CREATE UNIQUE INDEX venture_members_household ON venture_members (venture_id, household_id) WHERE household_id IS NOT NULL;
CREATE UNIQUE INDEX venture_members_collective ON venture_members (venture_id) WHERE kind = 'collective';
CREATE INDEX venture_members_by_household ON venture_members (household_id) WHERE household_id IS NOT NULL;

-- 股权登记簿: dated, numbered, append-only movements. Holdings are derived from them.
CREATE TABLE share_movements (
    county_code    char(12) NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    venture_id     uuid NOT NULL,
    register_no    bigint NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('subscribe', 'allocate', 'transfer', 'redeem')),
    from_member_id uuid,
    to_member_id   uuid,
    share_class    text NOT NULL CHECK (share_class IN ('ordinary', 'poverty')),
    shares         bigint NOT NULL CHECK (shares > 0),
    capital_fen    bigint NOT NULL CHECK (capital_fen >= 0),
    effective_date date NOT NULL,
    reason         text NOT NULL DEFAULT '',
    entry_id       uuid,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by    text NOT NULL,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, venture_id, register_no),
    FOREIGN KEY (county_code, venture_id) REFERENCES ventures (county_code, id),
    CHECK (CASE kind WHEN 'subscribe' THEN from_member_id IS NULL AND to_member_id IS NOT NULL
                     WHEN 'redeem' THEN from_member_id IS NOT NULL AND to_member_id IS NULL
                     ELSE from_member_id IS NOT NULL AND to_member_id IS NOT NULL
                          AND from_member_id <> to_member_id END)
);
CREATE INDEX share_movements_venture ON share_movements (venture_id, effective_date, register_no);
CREATE TRIGGER share_movements_append_only BEFORE UPDATE OR DELETE ON share_movements
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- 股权证: one certificate number per holding (member and class).
CREATE TABLE share_certificates (
    county_code    char(12) NOT NULL,
    venture_id     uuid NOT NULL,
    member_id      uuid NOT NULL,
    share_class    text NOT NULL,
    certificate_no text NOT NULL,
    PRIMARY KEY (county_code, venture_id, member_id, share_class),
    UNIQUE (county_code, certificate_no)
);

CREATE TABLE subsidies (
    county_code char(12) NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    venture_id  uuid NOT NULL,
    amount_fen  bigint NOT NULL CHECK (amount_fen > 0),
    source      text NOT NULL,
    received_on date NOT NULL,
    entry_id    uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id)
);

-- 成员账户 movements: each member's capital, reserve share and subsidy share, per year.
CREATE TABLE member_account_movements (
    county_code char(12) NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    venture_id  uuid NOT NULL,
    member_id   uuid NOT NULL,
    year        integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('capital', 'reserve', 'subsidy')),
    amount_fen  bigint NOT NULL,
    source_type text NOT NULL,
    source_id   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id)
);
CREATE INDEX member_account_movements_member ON member_account_movements (venture_id, member_id, year);
CREATE TRIGGER member_account_movements_append_only BEFORE UPDATE OR DELETE ON member_account_movements
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Trades with the cooperative; member_id NULL is a non-member trade, kept apart (art. 41).
CREATE TABLE trades (
    county_code char(12) NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    venture_id  uuid NOT NULL,
    member_id   uuid,
    traded_on   date NOT NULL,
    product     text NOT NULL,
    quantity_g  bigint NOT NULL CHECK (quantity_g >= 0),
    amount_fen  bigint NOT NULL CHECK (amount_fen >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id)
);
CREATE INDEX trades_venture ON trades (venture_id, traded_on);

-- 谁贫困谁享受: the shares an exited household returned, and their proposed reallocation.
CREATE TABLE reallocation_proposals (
    county_code        char(12) NOT NULL,
    id                 uuid NOT NULL DEFAULT gen_random_uuid(),
    venture_id         uuid NOT NULL,
    exited_household_id uuid NOT NULL,
    shares             bigint NOT NULL,
    capital_fen        bigint NOT NULL,
    effective_date     date NOT NULL,
    proposal           jsonb NOT NULL,
    status             text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'confirmed')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id)
);
