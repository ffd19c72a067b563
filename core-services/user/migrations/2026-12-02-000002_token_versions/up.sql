-- The version of an account's sessions: every access token carries the one it was minted with (`ver`), and the
-- subgraphs refuse a token older than the account's current one (docs/ARCHITECTURE.md, "Rules of the domain").
-- A new role or password bumps it here, whoever writes the row; "sign out everywhere" bumps it explicitly.
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION bump_user_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    IF NEW.role IS DISTINCT FROM OLD.role OR NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
        NEW.token_version := GREATEST(NEW.token_version, OLD.token_version + 1);
    END IF;
    RETURN NEW;
END
$$;
