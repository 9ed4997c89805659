-- Paid memberships through Stripe, and complimentary access given by an admin.

-- The member's customer at Stripe (made once, at their first checkout), what their membership
-- allows (copied from their current subscription in the transaction that stores it, so that the
-- check on every request reads the member's row only), and an admin's complimentary grant
-- (forever when it has no end).
ALTER TABLE users ADD COLUMN stripe_customer_id TEXT;
-- The member's checkout still open at Stripe, if any: opening another expires it first, so a
-- member never has two checkouts to pay.
ALTER TABLE users ADD COLUMN stripe_open_checkout TEXT;
ALTER TABLE users ADD COLUMN paid_status TEXT;
-- A paid membership reads until the end of the period paid for (with a little slack for the
-- renewal's news to arrive), so a membership whose end Stripe never reported still ends.
ALTER TABLE users ADD COLUMN paid_until TIMESTAMP;
ALTER TABLE users ADD COLUMN paid_grace_ends_at TIMESTAMP;
ALTER TABLE users ADD COLUMN complimentary_since TIMESTAMP;
ALTER TABLE users ADD COLUMN complimentary_until TIMESTAMP;
CREATE UNIQUE INDEX users_by_stripe_customer ON users (stripe_customer_id)
    WHERE stripe_customer_id IS NOT NULL;

-- Each subscription as Stripe last described it (read back from Stripe on every event about it).
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY NOT NULL,
    stripe_id TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- trialing, active, past_due, canceled, unpaid, incomplete, incomplete_expired or paused.
    status TEXT NOT NULL,
    -- month or year, and the price in the currency's smallest unit.
    plan_interval TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    trial_end TIMESTAMP,
    current_period_end TIMESTAMP,
    cancel_at TIMESTAMP,
    ended_at TIMESTAMP,
    -- When it first became past due (cleared when it is paid): the grace period runs from here.
    past_due_since TIMESTAMP,
    started_at TIMESTAMP NOT NULL,
    -- The first paid invoice with an amount: when the member became a paying one.
    converted_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX subscriptions_by_user ON subscriptions (user_id);

-- Invoices paid or failed, as the member's export and the publisher's figures need them.
CREATE TABLE payments (
    id INTEGER PRIMARY KEY NOT NULL,
    stripe_invoice_id TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subscription_stripe_id TEXT,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    -- paid or failed
    status TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    UNIQUE (stripe_invoice_id, status)
);
CREATE INDEX payments_by_user ON payments (user_id);

-- Every Stripe event acted on, stored in the transaction of its effect: a repeated delivery finds
-- its id here and does nothing.
CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);
