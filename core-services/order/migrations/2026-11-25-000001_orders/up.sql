-- Orders. A row is first a claim (status PLACING: never listed or returned) made under the unique
-- (user_id, idempotency_key) constraint, so concurrent duplicates of one request produce one order.
CREATE TABLE orders (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('PLACING', 'PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED')),
    -- Minor units of `currency`; bounded so that it always fits a GraphQL Int.
    total BIGINT NOT NULL DEFAULT 0 CHECK (total BETWEEN 0 AND 2147483647),
    currency TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- Hash of the placement request, so a retry is told apart from another request reusing the key.
    request_hash TEXT NOT NULL,
    -- The product-core reservation holding the stock; chosen at claim time so the reserve call can be retried.
    reservation_id UUID NOT NULL CONSTRAINT orders_reservation_id_key UNIQUE,
    -- What product-core is known to hold: HELD until the commit is confirmed, RELEASED once stock went back.
    reservation_status TEXT NOT NULL DEFAULT 'HELD'
        CHECK (reservation_status IN ('HELD', 'COMMITTED', 'RELEASED')),
    shipping_address JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT orders_user_idempotency_key UNIQUE (user_id, idempotency_key)
);

-- Keyset pages: newest first, id as the tie-break; per user, per status, or all.
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_status_created_idx ON orders (status, created_at DESC, id DESC);
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);
-- The reconciler's work: stale claims, commits and releases product-core has not confirmed yet.
CREATE INDEX orders_placing_idx ON orders (created_at) WHERE status = 'PLACING';
CREATE INDEX orders_unsettled_idx ON orders (updated_at)
    WHERE (status = 'CANCELLED' AND reservation_status <> 'RELEASED')
       OR (status NOT IN ('PLACING', 'CANCELLED') AND reservation_status = 'HELD');

CREATE TABLE order_items (
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no INTEGER NOT NULL,
    product_id UUID NOT NULL,
    -- Snapshots taken from the reservation when the order was placed.
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
    line_total BIGINT NOT NULL CHECK (line_total = unit_price * quantity),
    PRIMARY KEY (order_id, line_no)
);

CREATE INDEX order_items_product_idx ON order_items (product_id);

CREATE TABLE order_status_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    -- NULL for the placement itself.
    from_status TEXT,
    to_status TEXT NOT NULL,
    -- The acting user (`x-actor-id`); NULL when the service acted on its own (the reconciler).
    actor_id UUID,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX order_status_history_order_idx ON order_status_history (order_id, id);
