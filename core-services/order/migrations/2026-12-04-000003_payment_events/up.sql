-- The provider's webhook events already applied (docs/ARCHITECTURE.md, "Checkout and payments"): a replayed
-- event finds its id here and changes nothing.
CREATE TABLE payment_events (
    id          TEXT        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A webhook names the payment by the provider's reference.
CREATE UNIQUE INDEX payments_provider_reference_key ON payments (provider, reference);
-- The sweeper's work: payments still awaiting the provider.
CREATE INDEX payments_pending_idx ON payments (created_at) WHERE status = 'PENDING_CONFIRMATION';
