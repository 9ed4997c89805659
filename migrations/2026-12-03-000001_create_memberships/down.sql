DROP TABLE stripe_events;
DROP TABLE payments;
DROP TABLE subscriptions;
DROP INDEX users_by_stripe_customer;
ALTER TABLE users DROP COLUMN complimentary_until;
ALTER TABLE users DROP COLUMN complimentary_since;
ALTER TABLE users DROP COLUMN paid_grace_ends_at;
ALTER TABLE users DROP COLUMN paid_status;
ALTER TABLE users DROP COLUMN stripe_customer_id;
