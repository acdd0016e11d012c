-- Who is signed in is kept a few seconds by each serving process (service/core/principals.py,
-- issue 19). A change to what a principal is made of tells them on commit: a user updated
-- (disabled, its role, region or ventures changed) or deleted, a household renumbered, moved to
-- another village or deleted. The payload is the id; a process forgets that id when told.
CREATE FUNCTION notify_principal_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('huinong_principals', OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_principal_changed
    AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_principal_changed();

CREATE TRIGGER households_principal_changed
    AFTER UPDATE OF household_no, village_code, county_code OR DELETE ON households
    FOR EACH ROW EXECUTE FUNCTION notify_principal_changed();

-- The province run (issue 19): journal_lines' statement trigger looked up the entry of every
-- line, and a plan cached while the ledger was small (PL/pgSQL keeps its plans for the session)
-- found each by county alone, reading every entry of the county per line: posting grew with the
-- square of the rows. Each check now asks once per distinct entry and account of the statement
-- (a chunk's 26,000 lines name 250 entries), the same rules as before: lines only for an entry of
-- this transaction, only accounts of their county; balances kept per statement.
CREATE OR REPLACE FUNCTION journal_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT county_code, entry_id FROM new_lines) n
               WHERE NOT EXISTS (SELECT 1 FROM journal_entries e
                                 WHERE e.county_code = n.county_code AND e.id = n.entry_id
                                   AND e.created_txid = txid_current())) THEN
        RAISE EXCEPTION 'lines may only be added to an entry in the transaction that created it'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT county_code, account_id FROM new_lines) n
               WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.county_code = n.county_code AND a.id = n.account_id)) THEN
        RAISE EXCEPTION 'journal line names an account that does not exist in its county'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    INSERT INTO account_balances AS b (county_code, account_id, balance_fen)
        SELECT county_code, account_id, sum(amount_fen) FROM new_lines GROUP BY county_code, account_id
        ON CONFLICT (county_code, account_id) DO UPDATE SET balance_fen = b.balance_fen + EXCLUDED.balance_fen;
    RETURN NULL;
END $$;

-- Reads that grew with the county (issue 19, the reads benchmark at 1,500 and 15,000 households):
-- a household's statement found its award by scanning the county's awards for its payable, and
-- the 我的分红 page looked for households split from it by scanning the county's households.
CREATE INDEX awards_payable ON awards (county_code, payable_id);
CREATE INDEX households_split_from ON households (county_code, split_from) WHERE split_from IS NOT NULL;
