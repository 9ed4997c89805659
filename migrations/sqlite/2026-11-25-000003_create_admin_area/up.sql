-- What the editor and admin area needs: article versions for safe concurrent editing, cover images,
-- images, redirects from old addresses, page views and the audit log.

-- Uploaded images, kept in the database so a backup holds them and every instance serves them.
-- Served at /images/{hash}.{extension}: the address changes when the bytes do.
CREATE TABLE images (
    id INTEGER PRIMARY KEY NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp', 'image/gif')),
    name TEXT NOT NULL,
    byte_size INTEGER NOT NULL,
    uploaded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    bytes BLOB NOT NULL
);

-- Raised by every save through the editor: a save made from an older version is refused.
ALTER TABLE articles ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
-- An optional cover image, shown on cards, the article page and og:image, with its alt text.
-- (Images are never deleted, so no foreign key: a column with one could not be dropped again.)
ALTER TABLE articles ADD COLUMN cover_image_id INTEGER;
ALTER TABLE articles ADD COLUMN cover_alt TEXT NOT NULL DEFAULT '';

-- Old addresses of articles, categories and tags, answered with 301 to the current one.
CREATE TABLE slug_redirects (
    id INTEGER PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('article', 'category', 'tag')),
    old_slug TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (kind, old_slug)
);

-- Article views per day, cache hits included, counted in memory and added here in batches.
-- Nothing about the reader is kept.
CREATE TABLE page_views (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    views INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, day)
);
CREATE INDEX page_views_by_day ON page_views (day);

-- Every editor and admin action: who, what, when, and the values before and after.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    -- NULL once the acting account is deleted; actor_name keeps who it was.
    actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    before TEXT NOT NULL DEFAULT '',
    after TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_time ON audit_log (at DESC);
CREATE INDEX audit_log_by_action ON audit_log (action, at DESC);

CREATE INDEX users_by_created ON users (created_at);
CREATE INDEX articles_by_updated ON articles (updated_at DESC);
