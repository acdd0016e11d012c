-- The double-entry ledger, payables and idempotency keys.
--
-- Invariants the database itself holds:
--   L1 every journal entry's lines sum to zero, with at least two lines (deferred, checked at commit)
--   L2 lines are added to an entry only in the transaction that created it
--   L3 entries and lines are never updated or deleted; corrections are reversing entries
--   L4 an entry is reversed at most once
--   L5 account_balances equals the sum of each account's lines (maintained set-wise, verified)
--   P1 a payable is paid at most once (payable_payments is unique per payable)
-- Amounts are fen; a line's amount is positive for a debit, negative for a credit.

CREATE TABLE accounts (
    county_code char(12) NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    owner_type  text NOT NULL CHECK (owner_type IN ('venture', 'household', 'program', 'county', 'member')),
    owner_id    text NOT NULL,
    code        text NOT NULL,   -- statutory code (221, 2232, ...) or a service code (payable, bank, funding)
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, owner_type, owner_id, code)
);

CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE account_balances (
    county_code char(12) NOT NULL,
    account_id  uuid NOT NULL,
    balance_fen bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (county_code, account_id)
);

CREATE TABLE journal_entries (
    county_code     char(12) NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    source_type     text NOT NULL CHECK (source_type IN ('distribution', 'settlement', 'award', 'batch',
                        'bank_return', 'share_capital', 'subsidy', 'manual', 'reversal')),
    source_id       text NOT NULL,
    idempotency_key text NOT NULL,
    memo            text NOT NULL,
    posted_on       date NOT NULL,
    reverses        uuid,
    created_txid    bigint NOT NULL DEFAULT txid_current(),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, idempotency_key),
    UNIQUE (county_code, reverses),
    FOREIGN KEY (county_code, reverses) REFERENCES journal_entries (county_code, id)
);
CREATE INDEX journal_entries_source ON journal_entries (county_code, source_type, source_id);

CREATE TABLE journal_lines (
    county_code char(12) NOT NULL,
    entry_id    uuid NOT NULL,
    line_no     integer NOT NULL,
    account_id  uuid NOT NULL,
    amount_fen  bigint NOT NULL CHECK (amount_fen <> 0),
    party_id    uuid,          -- the household (or member) the line concerns: a sub-ledger key
    PRIMARY KEY (county_code, entry_id, line_no)
    -- The references to journal_entries and accounts are checked set-wise per statement by
    -- journal_lines_inserted() (L2): row-by-row foreign-key triggers would dominate a bulk COPY,
    -- and neither entries nor accounts can ever be deleted.
);
CREATE INDEX journal_lines_account ON journal_lines (county_code, account_id);
CREATE INDEX journal_lines_party ON journal_lines (party_id) WHERE party_id IS NOT NULL;

CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER journal_lines_append_only BEFORE UPDATE OR DELETE ON journal_lines
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER journal_lines_no_truncate BEFORE TRUNCATE ON journal_lines
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- L1, at commit: one check per entry (not per line), so bulk posting stays fast.
CREATE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
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
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER journal_entry_balanced AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced();

-- L2, L5 and the lines' references, set-wise per statement (COPY included): cheap even for a
-- million lines.
CREATE FUNCTION journal_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_lines n LEFT JOIN journal_entries e
                 ON e.county_code = n.county_code AND e.id = n.entry_id
               WHERE e.id IS NULL OR e.created_txid <> txid_current()) THEN
        RAISE EXCEPTION 'lines may only be added to an entry in the transaction that created it'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM new_lines n LEFT JOIN accounts a
                 ON a.county_code = n.county_code AND a.id = n.account_id
               WHERE a.id IS NULL) THEN
        RAISE EXCEPTION 'journal line names an account that does not exist in its county'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    INSERT INTO account_balances AS b (county_code, account_id, balance_fen)
        SELECT county_code, account_id, sum(amount_fen) FROM new_lines GROUP BY county_code, account_id
        ON CONFLICT (county_code, account_id) DO UPDATE SET balance_fen = b.balance_fen + EXCLUDED.balance_fen;
    RETURN NULL;
END $$;
CREATE TRIGGER journal_lines_inserted AFTER INSERT ON journal_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION journal_lines_inserted();

-- 应付款: what the service owes a household, from one source line.
CREATE TABLE payables (
    county_code    char(12) NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    household_id   uuid NOT NULL,
    source         text NOT NULL CHECK (source IN ('distribution', 'settlement', 'award')),
    source_id      text NOT NULL,
    source_ref     text NOT NULL DEFAULT '',   -- the line within the source (member, contract)
    amount_fen     bigint NOT NULL CHECK (amount_fen > 0),
    status         text NOT NULL DEFAULT 'unpaid' CHECK (status IN ('unpaid', 'in_batch', 'paid', 'cancelled')),
    batch_id       uuid,
    failure_reason text,
    explanation    text NOT NULL DEFAULT '',
    venture_id     uuid,
    program_id     uuid,
    village_code   char(12),
    entry_id       uuid NOT NULL,               -- the journal entry that recognised the debt
    payable_account_id uuid NOT NULL,           -- credited when the debt was recognised (party = household)
    paying_account_id  uuid NOT NULL,           -- the bank account the money leaves from
    paid_on        date,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, source, source_id, source_ref, household_id),
    CHECK ((status = 'in_batch') = (batch_id IS NOT NULL)),
    CHECK ((status = 'paid') = (paid_on IS NOT NULL))
);
CREATE INDEX payables_status ON payables (county_code, status, source);
CREATE INDEX payables_household ON payables (household_id);
CREATE INDEX payables_source ON payables (county_code, source, source_id);

-- Paid and cancelled are final: the row can no longer change.
CREATE FUNCTION payables_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('paid', 'cancelled') THEN
        RAISE EXCEPTION 'payable % is % and cannot change', OLD.id, OLD.status USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.amount_fen <> OLD.amount_fen OR NEW.household_id <> OLD.household_id THEN
        RAISE EXCEPTION 'payable % amount and payee are fixed', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payables_transition BEFORE UPDATE ON payables FOR EACH ROW EXECUTE FUNCTION payables_transition();
CREATE TRIGGER payables_no_delete BEFORE DELETE ON payables FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- P1: one payment per payable, ever.
CREATE TABLE payable_payments (
    county_code char(12) NOT NULL,
    payable_id  uuid NOT NULL,
    batch_id    uuid NOT NULL,
    entry_id    uuid NOT NULL,
    paid_on     date NOT NULL,
    bank_ref    text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, payable_id),
    FOREIGN KEY (county_code, payable_id) REFERENCES payables (county_code, id)
);
CREATE TRIGGER payable_payments_append_only BEFORE UPDATE OR DELETE ON payable_payments
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Idempotency keys (API.md): the first answer is kept and replayed.
CREATE TABLE idempotency_keys (
    scope           text NOT NULL,              -- who sent it: a user or household id
    key             text NOT NULL CHECK (length(key) BETWEEN 8 AND 255),
    request_digest  text NOT NULL,
    method          text NOT NULL,
    path            text NOT NULL,
    state           text NOT NULL CHECK (state IN ('in_flight', 'done')),
    response_status integer,
    response_body   bytea,
    locked_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (scope, key)
);
