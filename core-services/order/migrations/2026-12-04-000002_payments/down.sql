ALTER TABLE carts DROP COLUMN checkout_started_at;
DROP TABLE payments;
