-- Members and what hangs off them: sessions, throttles, one-time email tokens, the mail queue and
-- the site's settings.

-- The day a trial-ending reminder went out, so it goes out once.
ALTER TABLE users ADD COLUMN trial_reminder_sent_at TIMESTAMP;
CREATE INDEX users_by_trial_end ON users (trial_ends_at) WHERE trial_reminder_sent_at IS NULL;

-- Signed-in devices. The cookie holds only a random value; this table holds its SHA-256, so a
-- copy of the database cannot be turned into working cookies.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- What the session carries besides the user (JSON), as the session middleware hands it over.
    state TEXT NOT NULL DEFAULT '{}',
    -- "Firefox on Linux": the browser and system, read coarsely from the User-Agent.
    device TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    -- The absolute end of the session, whatever its use.
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Events counted against a limit: failed log-ins per client address and per account, sign-ups
-- per client address. The key is an HMAC of the address or email, never the value itself.
CREATE TABLE throttle_events (
    id INTEGER PRIMARY KEY NOT NULL,
    bucket TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX throttle_events_by_key ON throttle_events (bucket, key_hash, at);
CREATE INDEX throttle_events_by_time ON throttle_events (at);

-- One-time links sent by email: confirm an address, reset a password, confirm a new address.
-- Only a SHA-256 of the token is stored.
CREATE TABLE email_tokens (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    token_hash TEXT NOT NULL UNIQUE,
    -- The address a change_email token confirms.
    new_email TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX email_tokens_by_user ON email_tokens (user_id, purpose);

-- Mail waiting to go out, written in the same transaction as the change that causes it, and kept
-- as a record of what was sent (a member's export lists theirs).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_by_user ON outbox (user_id);

-- Site settings an administrator can change; code supplies the defaults of missing keys.
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO settings (key, value, updated_at) VALUES
    ('trial_days', '14', CURRENT_TIMESTAMP),
    ('signups_open', 'true', CURRENT_TIMESTAMP),
    ('session_idle_days', '14', CURRENT_TIMESTAMP),
    ('session_absolute_days', '30', CURRENT_TIMESTAMP);

-- Settings show on pages (the trial length on every invitation): a change clears cached pages.
CREATE TRIGGER content_version_after_settings_insert AFTER INSERT ON settings BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER content_version_after_settings_update AFTER UPDATE ON settings BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
