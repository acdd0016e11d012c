-- A venture's members are read by venture (the register, every distribution). The unique key
-- leads with county_code, so a lookup by venture alone had no index to use and scanned them all.
CREATE INDEX venture_members_venture ON venture_members (venture_id, member_no);
