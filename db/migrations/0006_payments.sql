-- Payment batches (代发批次), their lines and the bank's return files (回盘).
--
-- Invariants the database itself holds:
--   B1 a batch is approved by someone other than its maker
--   B2 a payable is on at most one open batch line (partial unique index on pending lines)
--   B3 a settled line (paid, failed, cancelled) never changes again; amount and payee are fixed
--   B4 return imports are append-only records
-- A line keeps the payee's name, bank and encrypted card and ID numbers as they were when the
-- batch was built, so what the approver approved is what the bank is sent, even if the card is
-- corrected later (a corrected card takes effect in the next batch).

CREATE TABLE payment_batches (
    county_code     char(12) NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'cancelled', 'closed')),
    selection       jsonb NOT NULL DEFAULT '{}',
    line_count      integer NOT NULL DEFAULT 0 CHECK (line_count >= 0),
    total_fen       bigint NOT NULL DEFAULT 0 CHECK (total_fen >= 0),
    created_by      text NOT NULL,
    created_by_id   text NOT NULL,
    approved_by     text,
    approved_by_id  text,
    approved_at     timestamptz,
    cancelled_at    timestamptz,
    closed_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id),
    CHECK (approved_by_id IS NULL OR approved_by_id <> created_by_id),
    CHECK ((status IN ('approved', 'closed')) = (approved_by_id IS NOT NULL))
);
CREATE UNIQUE INDEX payment_batches_id ON payment_batches (id);
CREATE INDEX payment_batches_status ON payment_batches (county_code, status, created_at);

CREATE TABLE payment_batch_lines (
    county_code       char(12) NOT NULL,
    batch_id          uuid NOT NULL,
    seq               integer NOT NULL CHECK (seq > 0),    -- 序号 in the bank file
    payable_id        uuid NOT NULL,
    household_id      uuid NOT NULL,
    amount_fen        bigint NOT NULL CHECK (amount_fen > 0),
    payee_name        text NOT NULL,
    payee_name_masked text NOT NULL,
    bank_name         text NOT NULL,
    bank_account_enc  bytea NOT NULL,
    bank_account_masked text NOT NULL,
    id_number_enc     bytea NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'failed', 'cancelled')),
    failure_reason    text,
    return_id         uuid,                               -- the return import that settled it
    entry_id          uuid,                               -- the payment's journal entry
    settled_on        date,
    PRIMARY KEY (county_code, batch_id, seq),
    UNIQUE (county_code, batch_id, payable_id),
    FOREIGN KEY (county_code, batch_id) REFERENCES payment_batches (county_code, id),
    -- No foreign key to payables: lines are only ever written by the statement that reads them from
    -- the payable rows, and payables are never deleted; a per-row check costs ~2 s per 100,000 lines.
    CHECK ((status = 'paid') = (entry_id IS NOT NULL)),
    CHECK ((status = 'failed') = (failure_reason IS NOT NULL))
);
CREATE UNIQUE INDEX payment_batch_lines_open ON payment_batch_lines (county_code, payable_id) WHERE status = 'pending';
CREATE INDEX payment_batch_lines_payable ON payment_batch_lines (payable_id);

CREATE FUNCTION payment_batch_lines_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'batch line % of batch % is % and cannot change', OLD.seq, OLD.batch_id, OLD.status
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.amount_fen <> OLD.amount_fen OR NEW.payable_id <> OLD.payable_id OR NEW.household_id <> OLD.household_id
       OR NEW.bank_account_enc <> OLD.bank_account_enc OR NEW.seq <> OLD.seq OR NEW.batch_id <> OLD.batch_id THEN
        RAISE EXCEPTION 'batch line % of batch %: amount and payee are fixed', OLD.seq, OLD.batch_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payment_batch_lines_transition BEFORE UPDATE ON payment_batch_lines
    FOR EACH ROW EXECUTE FUNCTION payment_batch_lines_transition();
CREATE TRIGGER payment_batch_lines_no_delete BEFORE DELETE ON payment_batch_lines
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER payment_batches_no_delete BEFORE DELETE ON payment_batches
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- One row per return file imported, whatever it changed (a repeated file changes nothing but is
-- still recorded: who sent what, when).
CREATE TABLE payment_returns (
    county_code     char(12) NOT NULL,
    id              uuid NOT NULL,
    batch_id        uuid NOT NULL,
    filename        text NOT NULL,
    file_sha256     text NOT NULL,
    entry_id        uuid,
    paid_count      integer NOT NULL,
    paid_fen        bigint NOT NULL,
    failed_count    integer NOT NULL,
    failed_fen      bigint NOT NULL,
    unmatched_count integer NOT NULL,
    repeated_count  integer NOT NULL,
    imported_by     text NOT NULL,
    imported_on     date NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, batch_id) REFERENCES payment_batches (county_code, id)
);
CREATE INDEX payment_returns_batch ON payment_returns (county_code, batch_id);
CREATE TRIGGER payment_returns_append_only BEFORE UPDATE OR DELETE ON payment_returns
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
