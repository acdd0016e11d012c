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
