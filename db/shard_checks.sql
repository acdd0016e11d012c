-- The journal's per-line checks for a Citus shard (docs/scale-out.md, "The journal"), in place of
-- the set-wise statement trigger one server keeps for speed (db/distribution.py
-- SINGLE_SERVER_TRIGGERS): the same rules, L2 a line refused once its entry's header is in, and a
-- line's account one of its county, each checked per line on the county's shard. db/citus.sql runs
-- this first; tests/api/test_ledger.py runs the ledger's refusals on both.

DROP TRIGGER journal_lines_checked ON journal_lines;
CREATE TRIGGER journal_line_before_seal BEFORE INSERT ON journal_lines
    FOR EACH ROW EXECUTE FUNCTION journal_line_before_seal();
ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_account_exists
    FOREIGN KEY (county_code, account_id) REFERENCES accounts (county_code, id);
