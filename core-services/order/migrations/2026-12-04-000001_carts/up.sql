-- Carts (docs/ARCHITECTURE.md, "Carts"). A cart belongs to a signed-in user (user_id, one per user) or to a
-- guest, who holds it by an unguessable token of which only the SHA-256 digest is kept here. Exactly one of the
-- two is set. Lines hold a product and a quantity only: prices are read from product-core on every look.
CREATE TABLE carts (
    id          UUID        PRIMARY KEY,
    user_id     UUID        CONSTRAINT carts_user_id_key UNIQUE,
    token_hash  BYTEA       CONSTRAINT carts_token_hash_key UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT carts_one_owner CHECK ((user_id IS NULL) <> (token_hash IS NULL))
);

-- The sweeper's work: guest carts idle for longer than GUEST_CART_TTL_DAYS.
CREATE INDEX carts_guest_idle_idx ON carts (updated_at) WHERE user_id IS NULL;

CREATE TABLE cart_lines (
    cart_id    UUID        NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id UUID        NOT NULL,
    quantity   INTEGER     NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    added_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, product_id)
);
