-- Idempotency claims die with their request (issue 13). A key is now claimed by inserting its row
-- inside the request's own transaction: a second request with the same key waits on that row and,
-- once the first commits, replays its answer; if the first dies (killed, crashed, restarted) its
-- transaction rolls back with the claim, and the retry runs at once. A claim is never committed
-- 'in_flight' any more, so any such row left by the lease-based claims before this migration is
-- a dead request's: drop it, and the retry runs.
DELETE FROM idempotency_keys WHERE state = 'in_flight';

-- Sheets already imported (issue 12): the digest of an import's rows, per county, kind and
-- subject (a venture's id, or the county's code), so the same rows sent again are refused unless
-- the clerk says they are a new batch. Written in the import's own transaction.
CREATE TABLE imported_files (
    county_code char(12)    NOT NULL CHECK (county_code ~ '^[0-9]{6}0{6}$'),
    id          uuid        NOT NULL,
    kind        text        NOT NULL,
    subject     text        NOT NULL,
    rows_digest text        NOT NULL,
    filename    text        NOT NULL,
    row_count   integer     NOT NULL,
    new_batch   boolean     NOT NULL,
    imported_by text        NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id)
);
CREATE INDEX imported_files_by_digest ON imported_files (county_code, kind, subject, rows_digest, imported_at);
