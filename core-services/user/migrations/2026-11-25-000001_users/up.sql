-- Accounts. Emails are stored lower-cased (the core normalises them), so a plain unique constraint makes them
-- unique regardless of case.
CREATE TABLE users (
    id            UUID        PRIMARY KEY,
    email         TEXT        NOT NULL CONSTRAINT users_email_key UNIQUE CHECK (email = lower(email)),
    name          TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    role          TEXT        NOT NULL CHECK (role IN ('CUSTOMER', 'ADMIN')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The user list pages newest first by (created_at, id).
CREATE INDEX users_created_at_id ON users (created_at DESC, id DESC);

-- Refresh tokens, stored only as SHA-256 of the opaque token. Each login starts a family; every rotation adds a
-- token to it and links the old one to its successor (replaced_by). Presenting a replaced token revokes the
-- family.
CREATE TABLE refresh_tokens (
    id          UUID        PRIMARY KEY,
    user_id     UUID        NOT NULL CONSTRAINT refresh_tokens_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    family_id   UUID        NOT NULL,
    token_hash  BYTEA       NOT NULL CONSTRAINT refresh_tokens_token_hash_key UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    replaced_by UUID        REFERENCES refresh_tokens (id),
    revoked_at  TIMESTAMPTZ
);

CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
