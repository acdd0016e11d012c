-- The data key's check (issue 13). HUINONG_DATA_KEY encrypts ID, card and phone numbers; a service
-- started with another key used to run until its first decrypt failed. The first start stores an
-- HMAC of a constant under the key (never the key), and every start after compares its own: a
-- service whose key does not match the database it finds refuses to start.
CREATE TABLE data_key_check (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    key_check  bytea       NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now()
);
