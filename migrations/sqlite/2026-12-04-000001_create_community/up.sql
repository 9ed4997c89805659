-- Members taking part: pages of their own (a handle, a bio, a picture), comments under articles,
-- articles saved for later, and authors followed.

-- Every person's handle, unique whatever its case:
-- their page is /authors/{handle}. People who had none are given `member-{id}` here; start-up then
-- derives a handle from each such person's name once (see db::community::derive_handles).
ALTER TABLE users ADD COLUMN handle TEXT NOT NULL DEFAULT '';
-- The handle lowercased: what makes two handles the same, unique here.
ALTER TABLE users ADD COLUMN handle_key TEXT NOT NULL DEFAULT '';
UPDATE users SET handle = 'member-' || id, handle_key = 'member-' || id;
CREATE UNIQUE INDEX users_by_handle ON users (handle);
CREATE UNIQUE INDEX users_by_handle_key ON users (handle_key);
ALTER TABLE users ADD COLUMN image_id INTEGER REFERENCES images (id) ON DELETE SET NULL;

-- Handles a person had before, lowercased: their page's old address redirects to the new one until
-- someone else takes the handle.
CREATE TABLE handle_redirects (
    old_handle TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX handle_redirects_by_user ON handle_redirects (user_id);

-- Editors and admins may close an article's comments: those written stay, no new ones come.
ALTER TABLE articles ADD COLUMN comments_closed BOOLEAN NOT NULL DEFAULT 0;

-- Plain text, at most a few thousand characters; deleted with the article or the member.
-- AUTOINCREMENT: the id of a deleted comment is never given to another.
CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX comments_by_article ON comments (article_id, id);
CREATE INDEX comments_by_user ON comments (user_id);

-- A member's saved articles (the API's favourites).
CREATE TABLE saved_articles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, article_id)
);
CREATE INDEX saved_articles_by_article ON saved_articles (article_id);

-- Who follows whom.
CREATE TABLE follows (
    follower_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (follower_id, author_id)
);
CREATE INDEX follows_by_author ON follows (author_id);
