CREATE OR REPLACE FUNCTION bump_user_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

ALTER TABLE users DROP COLUMN token_version;
