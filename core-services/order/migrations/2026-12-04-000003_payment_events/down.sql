DROP INDEX payments_pending_idx;
DROP INDEX payments_provider_reference_key;
DROP TABLE payment_events;
