-- Objections are public: how many came from one address lately is asked on every filing.
CREATE INDEX objections_from ON objections (filed_from, created_at);
