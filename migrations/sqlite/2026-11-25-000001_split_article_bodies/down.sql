DROP TRIGGER content_version_after_tag_delete;
DROP TRIGGER content_version_after_category_delete;
DROP TRIGGER content_version_after_tag_change;
DROP TRIGGER content_version_after_category_change;
DROP TRIGGER content_version_after_untagging;
DROP TRIGGER content_version_after_tagging;
DROP TRIGGER content_version_after_article_delete;
DROP TRIGGER content_version_after_article_update;
DROP TRIGGER content_version_after_article_insert;
DROP TABLE content_version;
DROP TRIGGER topic_counts_after_untagging;
DROP TRIGGER topic_counts_after_tagging;
DROP TRIGGER topic_counts_after_article_update;
DROP TRIGGER topic_counts_before_article_delete;
DROP TRIGGER topic_counts_after_article_insert;
DROP TRIGGER article_tags_listing_after_article_update;
DROP INDEX article_tags_listing;
ALTER TABLE article_tags DROP COLUMN listed_at;
ALTER TABLE tags DROP COLUMN published_articles;
ALTER TABLE categories DROP COLUMN published_articles;

DROP INDEX articles_featured;
DROP INDEX articles_by_category;
DROP INDEX articles_newest;
CREATE INDEX articles_by_status_and_date ON articles (status, published_at DESC);
CREATE INDEX articles_by_category ON articles (category_id, status, published_at DESC);

ALTER TABLE articles ADD COLUMN body_markdown TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN body_html TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN teaser_html TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN body_text TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN toc_json TEXT NOT NULL DEFAULT '[]';

UPDATE articles SET
    body_markdown = (SELECT body_markdown FROM article_bodies WHERE article_id = articles.id),
    body_html = (SELECT body_html FROM article_bodies WHERE article_id = articles.id),
    teaser_html = (SELECT teaser_html FROM article_bodies WHERE article_id = articles.id),
    toc_json = (SELECT toc_json FROM article_bodies WHERE article_id = articles.id),
    body_text = coalesce((SELECT body_text FROM articles_fts WHERE rowid = articles.id), '');

DROP TRIGGER articles_fts_after_delete;
DROP TABLE articles_fts;
DROP TABLE article_bodies;

CREATE VIRTUAL TABLE articles_fts USING fts5(
    title,
    summary,
    body_text,
    content = 'articles',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');

CREATE TRIGGER articles_fts_after_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, summary, body_text)
    VALUES (new.id, new.title, new.summary, new.body_text);
END;

CREATE TRIGGER articles_fts_after_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, summary, body_text)
    VALUES ('delete', old.id, old.title, old.summary, old.body_text);
END;

CREATE TRIGGER articles_fts_after_update AFTER UPDATE OF title, summary, body_text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, summary, body_text)
    VALUES ('delete', old.id, old.title, old.summary, old.body_text);
    INSERT INTO articles_fts (rowid, title, summary, body_text)
    VALUES (new.id, new.title, new.summary, new.body_text);
END;
