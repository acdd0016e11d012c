-- Awards: each level's budget and what it has committed (issue 12), certificate serials numbered
-- per county (issue 13), and households applying for themselves (issue 18).
--
-- Invariants the database now holds as well:
--   A6 a programme's budget by level is the largest-remainder split of budget_fen by the cost
--      shares: the three parts sum to budget_fen and each is within a fen of its exact share
--   A7 what each level has committed never passes its share of the budget, and the three sum to
--      committed_fen (so a grant that would pass a level's share fails whatever the code above does)
--   A8 certificate numbers run per county, kind and year, across programmes
--   A9 a household's own application carries its income breakdown and its accepted commitment,
--      and the declared per-person income is the breakdown's sum ÷ people rounded half up

-- ---- budgets by level ----------------------------------------------------------------------------

ALTER TABLE award_programs
    ADD COLUMN province_budget_fen bigint,
    ADD COLUMN city_budget_fen bigint,
    ADD COLUMN county_budget_fen bigint,
    ADD COLUMN province_committed_fen bigint NOT NULL DEFAULT 0,
    ADD COLUMN city_committed_fen bigint NOT NULL DEFAULT 0,
    ADD COLUMN county_committed_fen bigint NOT NULL DEFAULT 0;

-- Existing programmes: the largest-remainder split (service.core.allocation: floors, then the fen
-- left over one each to the largest remainders, ties to the smaller key: city, county, province).
WITH parts AS (
    SELECT p.county_code, p.id, l.level, p.budget_fen,
           floor(p.budget_fen::numeric * l.bp / 10000)::bigint AS floor_fen,
           (p.budget_fen::numeric * l.bp) % 10000 AS remainder
    FROM award_programs p
    CROSS JOIN LATERAL (VALUES ('province', p.province_bp), ('city', p.city_bp), ('county', p.county_bp)) AS l(level, bp)
), ranked AS (
    SELECT *, budget_fen - sum(floor_fen) OVER w AS leftover,
           row_number() OVER (w ORDER BY remainder DESC, level COLLATE "C") AS rank
    FROM parts WINDOW w AS (PARTITION BY county_code, id)
), split AS (
    SELECT county_code, id,
           sum(floor_fen + CASE WHEN remainder > 0 AND rank <= leftover THEN 1 ELSE 0 END)
               FILTER (WHERE level = 'province') AS province,
           sum(floor_fen + CASE WHEN remainder > 0 AND rank <= leftover THEN 1 ELSE 0 END)
               FILTER (WHERE level = 'city') AS city,
           sum(floor_fen + CASE WHEN remainder > 0 AND rank <= leftover THEN 1 ELSE 0 END)
               FILTER (WHERE level = 'county') AS county
    FROM ranked GROUP BY county_code, id
)
UPDATE award_programs p
SET province_budget_fen = s.province, city_budget_fen = s.city, county_budget_fen = s.county
FROM split s WHERE s.county_code = p.county_code AND s.id = p.id;

UPDATE award_programs p
SET province_committed_fen = w.province, city_committed_fen = w.city, county_committed_fen = w.county
FROM (SELECT county_code, program_id, sum(province_fen) AS province, sum(city_fen) AS city,
             sum(county_fen) AS county
      FROM awards GROUP BY county_code, program_id) w
WHERE w.county_code = p.county_code AND w.program_id = p.id;

-- A programme granted under the old per-award rounding may already have committed a level past
-- its share; then this migration stops on the constraint below, for a person to decide that
-- programme (its awards were real and stay as they are).
ALTER TABLE award_programs
    ALTER COLUMN province_budget_fen SET NOT NULL,
    ALTER COLUMN city_budget_fen SET NOT NULL,
    ALTER COLUMN county_budget_fen SET NOT NULL,
    ADD CONSTRAINT award_programs_level_budgets_sum
        CHECK (province_budget_fen + city_budget_fen + county_budget_fen = budget_fen),
    ADD CONSTRAINT award_programs_level_budgets_by_share CHECK (
        abs(province_budget_fen::numeric * 10000 - budget_fen::numeric * province_bp) < 10000
        AND abs(city_budget_fen::numeric * 10000 - budget_fen::numeric * city_bp) < 10000
        AND abs(county_budget_fen::numeric * 10000 - budget_fen::numeric * county_bp) < 10000),
    ADD CONSTRAINT award_programs_province_within_share CHECK (province_committed_fen BETWEEN 0 AND province_budget_fen),
    ADD CONSTRAINT award_programs_city_within_share CHECK (city_committed_fen BETWEEN 0 AND city_budget_fen),
    ADD CONSTRAINT award_programs_county_within_share CHECK (county_committed_fen BETWEEN 0 AND county_budget_fen),
    ADD CONSTRAINT award_programs_committed_by_level
        CHECK (province_committed_fen + city_committed_fen + county_committed_fen = committed_fen);

-- ---- certificate serials per county ----------------------------------------------------------------

-- Serials are unique per county (awards UNIQUE (county_code, serial)) and read
-- TP-621223-2025-000001: kind, county, year, number. The number is drawn here, per county, kind
-- and year, not per programme: a second programme of the same county and year goes on counting.
CREATE TABLE award_serial_counters (
    county_code char(12) NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('exit', 'xiaokang')),
    year        integer NOT NULL,
    last_number bigint NOT NULL CHECK (last_number >= 0),
    PRIMARY KEY (county_code, kind, year)
);
INSERT INTO award_serial_counters (county_code, kind, year, last_number)
SELECT county_code, kind, year, max(split_part(serial, '-', 4)::bigint) FROM awards GROUP BY county_code, kind, year;

ALTER TABLE award_programs DROP COLUMN next_serial;

-- ---- a household's own application ------------------------------------------------------------------

ALTER TABLE award_applications
    ADD COLUMN filed_by_household boolean NOT NULL DEFAULT false,
    -- {wage_fen, business_net_fen, property_net_fen, transfer_net_fen, people}
    ADD COLUMN income_breakdown jsonb,
    -- what the service had recorded for the year when the household applied, by part of the breakdown
    ADD COLUMN income_recorded jsonb,
    ADD COLUMN commitment_text text,
    ADD COLUMN commitment_accepted_at timestamptz,
    ADD CONSTRAINT award_applications_commitment CHECK ((commitment_text IS NULL) = (commitment_accepted_at IS NULL)),
    ADD CONSTRAINT award_applications_household_files_in_full
        CHECK (NOT filed_by_household OR (income_breakdown IS NOT NULL AND commitment_accepted_at IS NOT NULL)),
    ADD CONSTRAINT award_applications_income_breakdown CHECK (
        income_breakdown IS NULL OR (
            (income_breakdown->>'people')::integer BETWEEN 1 AND 99
            AND declared_income_fen = (
                2 * ((income_breakdown->>'wage_fen')::bigint + (income_breakdown->>'business_net_fen')::bigint
                     + (income_breakdown->>'property_net_fen')::bigint
                     + (income_breakdown->>'transfer_net_fen')::bigint)
                + (income_breakdown->>'people')::integer
            ) / (2 * (income_breakdown->>'people')::integer)));

-- A household may take its application back before the village review (withdrawn), and may then
-- apply again: like a rejected one, a withdrawn application is not live.
ALTER TABLE award_applications DROP CONSTRAINT award_applications_status_check;
ALTER TABLE award_applications ADD CONSTRAINT award_applications_status_check CHECK (status IN ('held', 'rejected',
    'pending_village', 'pending_township', 'approved', 'in_notice', 'objected', 'over_budget', 'granted', 'withdrawn'));
DROP INDEX award_applications_live;
CREATE UNIQUE INDEX award_applications_live ON award_applications (county_code, program_id, household_id)
    WHERE status NOT IN ('rejected', 'withdrawn');
