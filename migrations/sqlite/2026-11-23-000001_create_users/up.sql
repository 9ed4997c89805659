-- People known to the site: authors now, members once accounts open.
CREATE TABLE users (
    id INTEGER PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- NULL for authors who have never set a password and so cannot log in.
    password_hash TEXT,
    role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'editor', 'admin')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    bio TEXT NOT NULL DEFAULT '',
    email_verified_at TIMESTAMP,
    trial_started_at TIMESTAMP,
    trial_ends_at TIMESTAMP,
    session_epoch INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
