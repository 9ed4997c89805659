-- Production hardening: sign-ups confirmed by mail before an account exists, a search index that
-- keeps members-only text apart, and a record of data derived by code (re-derived at start-up when
-- the code that derives it changes).

-- A sign-up waiting for its address to be confirmed. The account is made when the emailed link is
-- followed, so a sign-up never reveals whether an address already has an account. Kept for a day.
CREATE TABLE pending_signups (
    id INTEGER PRIMARY KEY NOT NULL,
    -- SHA-256 of the token in the emailed link.
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- Where the new member goes after confirming: a path on this site, or ''.
    next_path TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX pending_signups_by_email ON pending_signups (email);
CREATE INDEX pending_signups_by_expiry ON pending_signups (expires_at);

-- Versions of what code derives from stored data (the teasers of members-only articles, their
-- search entries): when the code's version is newer, start-up derives them again.
CREATE TABLE derived_data (
    name TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL
);
INSERT INTO derived_data (name, version) VALUES ('teasers', 0);

-- The search index gains a column for the text of members-only articles past their teaser, so a
-- search by a reader without access matches only what that reader may read. Start-up fills it
-- (see derived_data above).
DROP TRIGGER articles_fts_after_delete;
DROP TABLE articles_fts;
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title,
    summary,
    body_text,
    members_text,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO articles_fts (rowid, title, summary, body_text, members_text)
SELECT id, title, summary, '', '' FROM articles;
CREATE TRIGGER articles_fts_after_delete AFTER DELETE ON articles BEGIN
    DELETE FROM articles_fts WHERE rowid = old.id;
END;
