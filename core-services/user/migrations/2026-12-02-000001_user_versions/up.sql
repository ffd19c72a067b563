-- Every change to an account bumps its version, so the user subgraph's cache can refuse to go back in time
-- without trusting any clock (docs/ARCHITECTURE.md, "Rules of the domain").
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

CREATE FUNCTION bump_user_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_bump_version BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION bump_user_version();
