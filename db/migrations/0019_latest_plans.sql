-- A venture's plans, the latest year first, as the console's home and GET /ventures/{id}/distributions
-- read them (issue 19): by venture alone, reversed plans included, in the order the pages give
-- (fiscal_year DESC, id as text). distributions_one_per_year leads with the county and leaves the
-- reversed out, so without this every such read scanned the province's plans.
CREATE INDEX distributions_venture_latest ON distributions (venture_id, fiscal_year DESC, (id::text));
