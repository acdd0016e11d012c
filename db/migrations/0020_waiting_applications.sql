-- The applications waiting for a reviewer, as the reviewers' console home counts them and their
-- queue lists them (issue 19): a county's waiting ones, first filed first. Every other index on
-- award_applications leads with a programme or a household, so the home and the queue read every
-- application of the county (15,000 granted ones at year end) to find the few still waiting. A
-- partial index holds only the waiting ones: small, and empty once a year's awards are granted.
-- Its statuses are WAITING_FOR's in service/awards/workflow.py (a test keeps the two the same).
CREATE INDEX award_applications_waiting ON award_applications (county_code, seq)
    INCLUDE (village_code, status)
    WHERE status IN ('pending_village', 'pending_township', 'held');
