-- Distributions (利润分配 / 盈余分配方案): a plan per venture and fiscal year, its lines, and its
-- passage draft → submitted → in_notice → posted (→ reversed).

CREATE TABLE distributions (
    county_code     char(12) NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    venture_id      uuid NOT NULL,
    fiscal_year     integer NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
    profit_fen      bigint NOT NULL,
    status          text NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'submitted', 'in_notice', 'posted', 'reversed')),
    waterfall       jsonb NOT NULL,
    carried_in      jsonb NOT NULL,       -- the state the ledger handed this year
    carried_out     jsonb NOT NULL,       -- what this plan hands the next
    reserve_quantified jsonb NOT NULL DEFAULT '{}',
    lines_count     integer NOT NULL,
    lines_total_fen bigint NOT NULL,
    created_by      text NOT NULL,
    submitted_by    text,
    approved_by     text,
    notice_id       uuid,
    notice_ends_on  date,
    entry_id        uuid,
    reversal_entry_id uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, venture_id) REFERENCES ventures (county_code, id)
);
CREATE UNIQUE INDEX distributions_id ON distributions (id);
-- One live plan per venture and year: a reversed one frees the year for a corrected plan.
CREATE UNIQUE INDEX distributions_one_per_year ON distributions (county_code, venture_id, fiscal_year)
    WHERE status <> 'reversed';

CREATE TABLE distribution_lines (
    county_code     char(12) NOT NULL,
    distribution_id uuid NOT NULL,
    line_no         integer NOT NULL,
    member_id       uuid NOT NULL,
    household_id    uuid,
    basis           text NOT NULL CHECK (basis IN ('patronage', 'capital', 'shares', 'floor', 'arrears')),
    weight          bigint NOT NULL,
    amount_fen      bigint NOT NULL CHECK (amount_fen >= 0),
    explanation     text NOT NULL,
    PRIMARY KEY (county_code, distribution_id, line_no)
);
CREATE INDEX distribution_lines_household ON distribution_lines (household_id) WHERE household_id IS NOT NULL;
