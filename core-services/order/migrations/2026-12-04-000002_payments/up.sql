-- Payments (docs/ARCHITECTURE.md, "Checkout and payments"): at most one per order, for the order's total as
-- order-core computed it, never an amount a client sent.
CREATE TABLE payments (
    id             UUID        PRIMARY KEY,
    order_id       UUID        NOT NULL CONSTRAINT payments_order_id_key UNIQUE
                               REFERENCES orders (id) ON DELETE CASCADE,
    -- `test`, a real provider's name, or `manual` (an admin confirmed an unpaid order).
    provider       TEXT        NOT NULL,
    status         TEXT        NOT NULL CHECK (status IN
                       ('AUTHORIZED', 'CAPTURED', 'FAILED', 'REFUNDED', 'PENDING_CONFIRMATION', 'MANUAL')),
    amount         BIGINT      NOT NULL CHECK (amount BETWEEN 0 AND 2147483647),
    currency       TEXT        NOT NULL,
    -- The provider's id for the payment.
    reference      TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- While a checkout of the cart runs: a second checkout waits for it instead of ordering the same lines twice.
-- A checkout older than the reservation TTL is abandoned and no longer holds the cart.
ALTER TABLE carts ADD COLUMN checkout_started_at TIMESTAMPTZ;
