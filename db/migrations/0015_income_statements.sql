-- The income-statement figures an accountant enters with the year's profit (收入费用明细): lines
-- 1–11 of the cooperative's 盈余及盈余分配表 (会农社02表, 财会〔2021〕37号), kept with the plan they
-- belong to. Line 12 (本年盈余) is computed from them and must equal the plan's profit_fen:
--
--   7  经营收益 = 1 经营收入 + 2 投资收益 − 3 经营支出 − 4 税金及附加 − 5 管理费用 − 6 财务费用
--   10 盈余总额 = 7 + 8 其他收入 − 9 其他支出
--   12 本年盈余 = 10 − 11 所得税费用
--
-- Invariants the database itself holds:
--   I1 the figures are those of one plan, and go with it when a draft is replaced (ON DELETE CASCADE)
--   I2 line 12 equals the plan's profit_fen (checked on insert; a plan's profit never changes)
--   I3 rows are never updated

CREATE TABLE income_statements (
    county_code           char(12) NOT NULL,
    distribution_id       uuid NOT NULL,
    operating_income_fen  bigint NOT NULL CHECK (operating_income_fen >= 0),
    investment_income_fen bigint NOT NULL,                  -- a loss on investments is negative
    operating_expense_fen bigint NOT NULL CHECK (operating_expense_fen >= 0),
    taxes_fen             bigint NOT NULL CHECK (taxes_fen >= 0),
    admin_expense_fen     bigint NOT NULL CHECK (admin_expense_fen >= 0),
    finance_expense_fen   bigint NOT NULL,                  -- interest earned exceeding costs is negative
    other_income_fen      bigint NOT NULL CHECK (other_income_fen >= 0),
    other_expense_fen     bigint NOT NULL CHECK (other_expense_fen >= 0),
    income_tax_fen        bigint NOT NULL CHECK (income_tax_fen >= 0),
    net_surplus_fen       bigint GENERATED ALWAYS AS (
        operating_income_fen + investment_income_fen - operating_expense_fen - taxes_fen - admin_expense_fen
        - finance_expense_fen + other_income_fen - other_expense_fen - income_tax_fen) STORED,
    entered_by            text NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, distribution_id),
    FOREIGN KEY (county_code, distribution_id) REFERENCES distributions (county_code, id) ON DELETE CASCADE
);

CREATE FUNCTION income_statement_matches_profit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_profit bigint;
BEGIN
    SELECT profit_fen INTO v_profit FROM distributions
        WHERE county_code = NEW.county_code AND id = NEW.distribution_id;
    IF v_profit IS DISTINCT FROM NEW.net_surplus_fen THEN
        RAISE EXCEPTION 'income statement of distribution % yields % fen, the plan''s profit is % fen',
            NEW.distribution_id, NEW.net_surplus_fen, v_profit USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER income_statements_match_profit AFTER INSERT ON income_statements
    FOR EACH ROW EXECUTE FUNCTION income_statement_matches_profit();
CREATE TRIGGER income_statements_no_update BEFORE UPDATE ON income_statements
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
