-- A customer's address book (docs/ARCHITECTURE.md, "Rules of the domain"): at most 20 addresses per user, at
-- most one of them the default. The limit is kept by user-core, which adds an address only while it holds the
-- user's row locked; the partial unique index keeps "one default" even against a writer that forgets to.
CREATE TABLE addresses (
    id          UUID        PRIMARY KEY,
    user_id     UUID        NOT NULL CONSTRAINT addresses_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT        NOT NULL,
    line1       TEXT        NOT NULL,
    line2       TEXT,
    city        TEXT        NOT NULL,
    postal_code TEXT        NOT NULL,
    country     TEXT        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    is_default  BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A user's book in the order it was written (and the lookups by user that every route makes).
CREATE INDEX addresses_user_id_created_at ON addresses (user_id, created_at, id);
CREATE UNIQUE INDEX addresses_one_default ON addresses (user_id) WHERE is_default;
