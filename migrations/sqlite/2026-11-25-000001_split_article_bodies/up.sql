-- Keeps article rows small, so lists, counts and index lookups never read through an article's
-- body. The Markdown source and everything rendered from it move to `article_bodies`, read only
-- when one article is shown (or fed). SQLite reads a row's columns in order, and a small column
-- stored after a large body was read through the body's overflow pages.
CREATE TABLE article_bodies (
    article_id INTEGER PRIMARY KEY NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    toc_json TEXT NOT NULL DEFAULT '[]',
    teaser_html TEXT NOT NULL,
    body_html TEXT NOT NULL,
    body_markdown TEXT NOT NULL
);

INSERT INTO article_bodies (article_id, toc_json, teaser_html, body_html, body_markdown)
SELECT id, toc_json, teaser_html, body_html, body_markdown FROM articles;

-- The search index keeps its own copy of the text it searches (a plain FTS5 table rather than one
-- reading `articles`), so the plain-text body lives in one place only, and excerpts never read the
-- articles table. The application writes it in the same transaction as the article; deleting an
-- article removes its entry here.
DROP TRIGGER articles_fts_after_insert;
DROP TRIGGER articles_fts_after_delete;
DROP TRIGGER articles_fts_after_update;
DROP TABLE articles_fts;

CREATE VIRTUAL TABLE articles_fts USING fts5(
    title,
    summary,
    body_text,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

INSERT INTO articles_fts (rowid, title, summary, body_text)
SELECT id, title, summary, body_text FROM articles;

CREATE TRIGGER articles_fts_after_delete AFTER DELETE ON articles BEGIN
    DELETE FROM articles_fts WHERE rowid = old.id;
END;

ALTER TABLE articles DROP COLUMN body_markdown;
ALTER TABLE articles DROP COLUMN body_html;
ALTER TABLE articles DROP COLUMN teaser_html;
ALTER TABLE articles DROP COLUMN body_text;
ALTER TABLE articles DROP COLUMN toc_json;

-- Indexes that answer every list in index order, newest first, so a page deep in a list skips
-- index entries rather than rows, and nothing is sorted at request time.
DROP INDEX articles_by_status_and_date;
DROP INDEX articles_by_category;
CREATE INDEX articles_newest ON articles (status, published_at DESC, id DESC);
CREATE INDEX articles_by_category ON articles (category_id, status, published_at DESC, id DESC);
CREATE INDEX articles_featured ON articles (status, featured DESC, published_at DESC, id DESC);

-- How many published articles each category and tag holds, kept by the triggers below in the same
-- transaction as the change, so the topic pages and hub counts never count rows.
ALTER TABLE categories ADD COLUMN published_articles INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tags ADD COLUMN published_articles INTEGER NOT NULL DEFAULT 0;

UPDATE categories SET published_articles = (
    SELECT count(*) FROM articles
    WHERE articles.category_id = categories.id AND articles.status = 'published'
);
UPDATE tags SET published_articles = (
    SELECT count(*) FROM article_tags JOIN articles ON articles.id = article_tags.article_id
    WHERE article_tags.tag_id = tags.id AND articles.status = 'published'
);

CREATE TRIGGER topic_counts_after_article_insert AFTER INSERT ON articles
WHEN new.status = 'published' BEGIN
    UPDATE categories SET published_articles = published_articles + 1 WHERE id = new.category_id;
END;

-- Before, not after: the article's tags are still there to be counted down. The cascade that then
-- deletes them finds no published article and changes nothing more.
CREATE TRIGGER topic_counts_before_article_delete BEFORE DELETE ON articles
WHEN old.status = 'published' BEGIN
    UPDATE categories SET published_articles = published_articles - 1 WHERE id = old.category_id;
    UPDATE tags SET published_articles = published_articles - 1
    WHERE id IN (SELECT tag_id FROM article_tags WHERE article_id = old.id);
END;

CREATE TRIGGER topic_counts_after_article_update AFTER UPDATE OF status, category_id ON articles
BEGIN
    UPDATE categories SET published_articles = published_articles - 1
    WHERE old.status = 'published' AND id = old.category_id;
    UPDATE categories SET published_articles = published_articles + 1
    WHERE new.status = 'published' AND id = new.category_id;
    UPDATE tags SET published_articles = published_articles
        + (new.status = 'published') - (old.status = 'published')
    WHERE old.status <> new.status
      AND id IN (SELECT tag_id FROM article_tags WHERE article_id = new.id);
END;

-- A tag's articles are listed from `article_tags` alone: `listed_at` is the article's publication
-- time while it is published and NULL otherwise, kept by the triggers here and below.
ALTER TABLE article_tags ADD COLUMN listed_at TIMESTAMP;
UPDATE article_tags SET listed_at = (
    SELECT published_at FROM articles WHERE id = article_tags.article_id AND status = 'published'
);
CREATE INDEX article_tags_listing ON article_tags (tag_id, listed_at DESC, article_id DESC);

CREATE TRIGGER article_tags_listing_after_article_update
AFTER UPDATE OF status, published_at ON articles BEGIN
    UPDATE article_tags
    SET listed_at = CASE WHEN new.status = 'published' THEN new.published_at END
    WHERE article_id = new.id;
END;

CREATE TRIGGER topic_counts_after_tagging AFTER INSERT ON article_tags BEGIN
    UPDATE article_tags SET listed_at = (
        SELECT published_at FROM articles WHERE id = new.article_id AND status = 'published'
    ) WHERE article_id = new.article_id AND tag_id = new.tag_id;
    UPDATE tags SET published_articles = published_articles + 1
    WHERE id = new.tag_id
      AND EXISTS (SELECT 1 FROM articles WHERE id = new.article_id AND status = 'published');
END;

CREATE TRIGGER topic_counts_after_untagging AFTER DELETE ON article_tags BEGIN
    UPDATE tags SET published_articles = published_articles - 1
    WHERE id = old.tag_id
      AND EXISTS (SELECT 1 FROM articles WHERE id = old.article_id AND status = 'published');
END;

-- A number that changes with every change to what the lists of articles show, so the lists kept in
-- memory (see src/db/lists.rs) know when to read again, whichever process made the change.
CREATE TABLE content_version (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 1);

CREATE TRIGGER content_version_after_article_insert AFTER INSERT ON articles BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER content_version_after_article_update AFTER UPDATE ON articles BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER content_version_after_article_delete AFTER DELETE ON articles BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER content_version_after_tagging AFTER INSERT ON article_tags BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER content_version_after_untagging AFTER DELETE ON article_tags BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
-- Hubs show their name and description: changing them changes pages too.
CREATE TRIGGER content_version_after_category_change AFTER UPDATE OF slug, name, description
ON categories BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER content_version_after_tag_change AFTER UPDATE OF slug, name, description
ON tags BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER content_version_after_category_delete AFTER DELETE ON categories BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER content_version_after_tag_delete AFTER DELETE ON tags BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
