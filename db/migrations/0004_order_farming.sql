-- Order farming (订单农业): contracts, advances on credit, weighed purchases, year-end settlements.
--
-- Invariants the database itself holds:
--   O1 contracts, advances, purchases and settlement lines are never updated or deleted
--   O2 at most one live (not reversed) settlement per contract and season
--   O3 a settlement conserves money: gross = deducted + payable, and the advances it was given
--      (carried in + this contract's own) = deducted + carried to the next season
--   O4 a settlement's figures never change; it only goes from settled to reversed, once
--   O5 every purchase names a contract and every settlement line a settlement. Checked set-wise per
--      statement (a COPY of 200,000 weighed lines pays one join, not 200,000 key lookups and row
--      locks); sound as a foreign key because contracts and settlements are never deleted.

CREATE TABLE farming_contracts (
    county_code            char(12) NOT NULL,
    id                     uuid NOT NULL DEFAULT gen_random_uuid(),
    venture_id             uuid NOT NULL,
    household_id           uuid NOT NULL,
    crop                   text NOT NULL CHECK (length(crop) BETWEEN 1 AND 100),
    season_year            integer NOT NULL CHECK (season_year BETWEEN 2000 AND 2100),
    contracted_g           bigint NOT NULL CHECK (contracted_g >= 0),
    floor_price_fen_per_kg bigint NOT NULL CHECK (floor_price_fen_per_kg >= 0),
    premium_bp             integer NOT NULL CHECK (premium_bp BETWEEN -10000 AND 10000),
    created_by             text NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, venture_id) REFERENCES ventures (county_code, id),
    FOREIGN KEY (county_code, household_id) REFERENCES households (county_code, id)
);
CREATE UNIQUE INDEX farming_contracts_id ON farming_contracts (id);
CREATE INDEX farming_contracts_venture ON farming_contracts (venture_id, season_year, household_id);
CREATE INDEX farming_contracts_household ON farming_contracts (household_id);

-- 赊销农资: seed, seedlings and fertiliser given on credit against a contract.
CREATE TABLE farming_advances (
    county_code  char(12) NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    contract_id  uuid NOT NULL,
    amount_fen   bigint NOT NULL CHECK (amount_fen > 0),
    given_on     date NOT NULL,
    item         text NOT NULL CHECK (length(item) BETWEEN 1 AND 200),
    entry_id     uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, contract_id) REFERENCES farming_contracts (county_code, id)
);
CREATE INDEX farming_advances_contract ON farming_advances (contract_id);

-- Weighed deliveries. seq keeps the order they were recorded in, which orders deliveries of one day.
CREATE TABLE farming_purchases (
    county_code             char(12) NOT NULL,
    id                      uuid NOT NULL DEFAULT gen_random_uuid(),
    seq                     bigint GENERATED ALWAYS AS IDENTITY,
    contract_id             uuid NOT NULL,
    bought_on               date NOT NULL,
    grade                   text NOT NULL CHECK (length(grade) BETWEEN 1 AND 50),
    weight_g                bigint NOT NULL CHECK (weight_g > 0),
    market_price_fen_per_kg bigint NOT NULL CHECK (market_price_fen_per_kg >= 0),
    created_at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id)
    -- contract_id is checked per statement below (O5), not per row by a foreign key
);
CREATE INDEX farming_purchases_contract ON farming_purchases (contract_id, bought_on, seq);

CREATE TABLE farming_settlements (
    county_code           char(12) NOT NULL,
    id                    uuid NOT NULL,
    venture_id            uuid NOT NULL,
    contract_id           uuid NOT NULL,
    household_id          uuid NOT NULL,
    season_year           integer NOT NULL,
    delivered_g           bigint NOT NULL CHECK (delivered_g >= 0),
    gross_fen             bigint NOT NULL CHECK (gross_fen >= 0),
    carried_in_fen        bigint NOT NULL CHECK (carried_in_fen >= 0),   -- advances carried from earlier seasons
    own_advances_fen      bigint NOT NULL CHECK (own_advances_fen >= 0), -- advances on this contract
    advances_deducted_fen bigint NOT NULL CHECK (advances_deducted_fen >= 0),
    payable_fen           bigint NOT NULL CHECK (payable_fen >= 0),
    advance_carried_fen   bigint NOT NULL CHECK (advance_carried_fen >= 0),
    explanation           text NOT NULL,
    entry_id              uuid,            -- NULL only when nothing was delivered (no money moved)
    settled_on            date NOT NULL,
    settled_by            text NOT NULL,
    status                text NOT NULL DEFAULT 'settled' CHECK (status IN ('settled', 'reversed')),
    reversal_entry_id     uuid,
    reversed_on           date,
    reversed_by           text,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, contract_id) REFERENCES farming_contracts (county_code, id),
    CHECK (gross_fen = advances_deducted_fen + payable_fen),
    CHECK (carried_in_fen + own_advances_fen = advances_deducted_fen + advance_carried_fen),
    CHECK ((entry_id IS NULL) = (gross_fen = 0)),
    CHECK ((status = 'reversed') = (reversed_on IS NOT NULL))
);
CREATE UNIQUE INDEX farming_settlements_id ON farming_settlements (id);
-- O2: a correction is a reversal followed by a new settlement.
CREATE UNIQUE INDEX farming_settlements_one_live ON farming_settlements (county_code, contract_id, season_year)
    WHERE status = 'settled';
CREATE INDEX farming_settlements_venture ON farming_settlements (venture_id, season_year, id);
CREATE INDEX farming_settlements_household ON farming_settlements (venture_id, household_id, season_year);

-- The priced parts of each delivery, as the household was told.
CREATE TABLE farming_settlement_lines (
    county_code             char(12) NOT NULL,
    settlement_id           uuid NOT NULL,
    line_no                 integer NOT NULL,
    purchase_id             uuid NOT NULL,
    weight_g                bigint NOT NULL CHECK (weight_g > 0),
    price_fen_per_kg_x10000 bigint NOT NULL CHECK (price_fen_per_kg_x10000 >= 0),
    reason                  text NOT NULL CHECK (reason IN ('floor', 'market_premium', 'beyond_contract')),
    amount_fen              bigint NOT NULL CHECK (amount_fen >= 0),
    explanation             text NOT NULL,
    PRIMARY KEY (county_code, settlement_id, line_no)
    -- settlement_id is checked per statement below (O5)
);

CREATE TRIGGER farming_contracts_append_only BEFORE UPDATE OR DELETE ON farming_contracts
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER farming_advances_append_only BEFORE UPDATE OR DELETE ON farming_advances
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER farming_purchases_append_only BEFORE UPDATE OR DELETE ON farming_purchases
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER farming_settlement_lines_append_only BEFORE UPDATE OR DELETE ON farming_settlement_lines
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER farming_settlements_no_delete BEFORE DELETE ON farming_settlements
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER farming_contracts_no_truncate BEFORE TRUNCATE ON farming_contracts
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER farming_settlements_no_truncate BEFORE TRUNCATE ON farming_settlements
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- O5: TG_ARGV names the parent table and the column of the new rows that refers to its id.
CREATE FUNCTION farming_parent_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_missing boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM new_rows n WHERE NOT EXISTS (
                        SELECT 1 FROM %I p WHERE p.county_code = n.county_code AND p.id = n.%I))',
                   TG_ARGV[0], TG_ARGV[1]) INTO v_missing;
    IF v_missing THEN
        RAISE EXCEPTION '% row names a % row that does not exist', TG_TABLE_NAME, TG_ARGV[0]
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER farming_purchases_have_contracts AFTER INSERT ON farming_purchases
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION farming_parent_exists('farming_contracts', 'contract_id');
CREATE TRIGGER farming_lines_have_settlements AFTER INSERT ON farming_settlement_lines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION farming_parent_exists('farming_settlements', 'settlement_id');

-- O4
CREATE FUNCTION farming_settlement_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'settled' OR NEW.status <> 'reversed'
       OR (NEW.county_code, NEW.id, NEW.venture_id, NEW.contract_id, NEW.household_id, NEW.season_year,
           NEW.delivered_g, NEW.gross_fen, NEW.carried_in_fen, NEW.own_advances_fen, NEW.advances_deducted_fen,
           NEW.payable_fen, NEW.advance_carried_fen, NEW.explanation, NEW.entry_id, NEW.settled_on, NEW.settled_by)
          IS DISTINCT FROM
          (OLD.county_code, OLD.id, OLD.venture_id, OLD.contract_id, OLD.household_id, OLD.season_year,
           OLD.delivered_g, OLD.gross_fen, OLD.carried_in_fen, OLD.own_advances_fen, OLD.advances_deducted_fen,
           OLD.payable_fen, OLD.advance_carried_fen, OLD.explanation, OLD.entry_id, OLD.settled_on, OLD.settled_by)
    THEN
        RAISE EXCEPTION 'settlement % can only be reversed, once', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER farming_settlement_transition BEFORE UPDATE ON farming_settlements
    FOR EACH ROW EXECUTE FUNCTION farming_settlement_transition();
