-- Stock held for an order being placed: HELD until committed, or released (restocked) by the client or, once
-- expired, by the sweeper.
CREATE TABLE reservations (
    id UUID PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('HELD', 'COMMITTED', 'RELEASED')),
    -- Hash of the requested lines, so a retried request with the same id is recognised.
    request_hash TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX reservations_held_expiry_idx ON reservations (expires_at) WHERE status = 'HELD';

CREATE TABLE reservation_lines (
    reservation_id UUID NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    line_no INTEGER NOT NULL,
    product_id UUID NOT NULL REFERENCES products (id),
    -- Snapshots taken when the stock was reserved.
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    unit_price BIGINT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, line_no)
);

CREATE INDEX reservation_lines_product_idx ON reservation_lines (product_id);
