-- The per-row checks of a Citus shard (docs/scale-out.md, "Invariants on a cluster"), in place of
-- the set-wise statement triggers one server keeps for speed (db/distribution.py
-- SINGLE_SERVER_TRIGGERS): the same rules, each checked per row on the county's shard. The journal:
-- L2 a line refused once its entry's header is in, and a line's account one of its county. Order
-- farming's O5: a purchase names a contract, a settlement line a settlement. db/citus.sql runs this
-- first; tests/api/test_ledger.py and test_order_farming_api.py run the refusals on both forms.

DROP TRIGGER journal_lines_checked ON journal_lines;
CREATE TRIGGER journal_line_before_seal BEFORE INSERT ON journal_lines
    FOR EACH ROW EXECUTE FUNCTION journal_line_before_seal();
ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_account_exists
    FOREIGN KEY (county_code, account_id) REFERENCES accounts (county_code, id);

DROP TRIGGER farming_purchases_have_contracts ON farming_purchases;
DROP TRIGGER farming_lines_have_settlements ON farming_settlement_lines;
ALTER TABLE farming_purchases ADD CONSTRAINT farming_purchases_contract
    FOREIGN KEY (county_code, contract_id) REFERENCES farming_contracts (county_code, id);
ALTER TABLE farming_settlement_lines ADD CONSTRAINT farming_settlement_lines_settlement
    FOREIGN KEY (county_code, settlement_id) REFERENCES farming_settlements (county_code, id);
