-- An article's Markdown source and everything rendered from it, read only when one article is shown.
CREATE TABLE article_bodies (
    article_id integer PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    toc_json text NOT NULL DEFAULT '[]',
    teaser_html text NOT NULL,
    body_html text NOT NULL,
    body_markdown text NOT NULL
);

-- Indexes that answer every list in index order, newest first.
CREATE INDEX articles_newest ON articles (status, published_at DESC, id DESC);
CREATE INDEX articles_by_category ON articles (category_id, status, published_at DESC, id DESC);
CREATE INDEX articles_featured ON articles (status, featured DESC, published_at DESC, id DESC);

-- A tag's articles are listed from `article_tags` alone: `listed_at` is the article's publication
-- time while it is published and NULL otherwise.
ALTER TABLE article_tags ADD COLUMN listed_at timestamp;
CREATE INDEX article_tags_listing ON article_tags (tag_id, listed_at DESC, article_id DESC);

-- How many published articles each category and tag holds, kept in the transaction of the change.
CREATE FUNCTION topic_counts_after_article_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'published' THEN
        UPDATE categories SET published_articles = published_articles - 1 WHERE id = OLD.category_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'published' THEN
        UPDATE categories SET published_articles = published_articles + 1 WHERE id = NEW.category_id;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status <> NEW.status THEN
        UPDATE tags SET published_articles = published_articles
            + (CASE WHEN NEW.status = 'published' THEN 1 ELSE 0 END)
            - (CASE WHEN OLD.status = 'published' THEN 1 ELSE 0 END)
        WHERE id IN (SELECT tag_id FROM article_tags WHERE article_id = NEW.id);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        UPDATE article_tags
        SET listed_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
        WHERE article_id = NEW.id
          AND listed_at IS DISTINCT FROM (CASE WHEN NEW.status = 'published' THEN NEW.published_at END);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER topic_counts_after_article_insert AFTER INSERT ON articles
    FOR EACH ROW EXECUTE FUNCTION topic_counts_after_article_change();
CREATE TRIGGER topic_counts_after_article_update AFTER UPDATE OF status, category_id, published_at
    ON articles FOR EACH ROW EXECUTE FUNCTION topic_counts_after_article_change();

-- Before, not after: the article's tags are still there to be counted down.
CREATE FUNCTION topic_counts_before_article_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'published' THEN
        UPDATE categories SET published_articles = published_articles - 1 WHERE id = OLD.category_id;
        UPDATE tags SET published_articles = published_articles - 1
        WHERE id IN (SELECT tag_id FROM article_tags WHERE article_id = OLD.id);
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER topic_counts_before_article_delete BEFORE DELETE ON articles
    FOR EACH ROW EXECUTE FUNCTION topic_counts_before_article_delete();

CREATE FUNCTION topic_counts_after_tagging() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE article_tags SET listed_at = (
            SELECT published_at FROM articles WHERE id = NEW.article_id AND status = 'published'
        ) WHERE article_id = NEW.article_id AND tag_id = NEW.tag_id;
        UPDATE tags SET published_articles = published_articles + 1
        WHERE id = NEW.tag_id
          AND EXISTS (SELECT 1 FROM articles WHERE id = NEW.article_id AND status = 'published');
    ELSE
        UPDATE tags SET published_articles = published_articles - 1
        WHERE id = OLD.tag_id
          AND EXISTS (SELECT 1 FROM articles WHERE id = OLD.article_id AND status = 'published');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER topic_counts_after_tagging AFTER INSERT ON article_tags
    FOR EACH ROW EXECUTE FUNCTION topic_counts_after_tagging();
CREATE TRIGGER topic_counts_after_untagging AFTER DELETE ON article_tags
    FOR EACH ROW EXECUTE FUNCTION topic_counts_after_tagging();

-- A number that changes with every change to what the lists of articles show, raised in the
-- writing transaction; `guidepost_content` tells every instance's page cache at commit.
CREATE TABLE content_version (
    id integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 1);

CREATE FUNCTION content_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
    PERFORM pg_notify('guidepost_content', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER content_version_after_article_change AFTER INSERT OR UPDATE OR DELETE ON articles
    FOR EACH ROW EXECUTE FUNCTION content_version_bump();
CREATE TRIGGER content_version_after_tagging AFTER INSERT OR DELETE ON article_tags
    FOR EACH ROW EXECUTE FUNCTION content_version_bump();
CREATE TRIGGER content_version_after_category_change AFTER UPDATE OF slug, name, description OR DELETE
    ON categories FOR EACH ROW EXECUTE FUNCTION content_version_bump();
CREATE TRIGGER content_version_after_tag_change AFTER UPDATE OF slug, name, description OR DELETE
    ON tags FOR EACH ROW EXECUTE FUNCTION content_version_bump();

SELECT guidepost_watch_tables();
