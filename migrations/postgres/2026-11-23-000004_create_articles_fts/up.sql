-- The search index: PostgreSQL's own full-text search over a table of the text to search, written
-- by the application in the article's transaction (as SQLite's FTS5 table is). Generated columns
-- keep the weighted documents in step with the text: A title, B summary, C body, D the members-only
-- text past a teaser; `public_document` leaves D out, for readers without access.
-- The text search configuration `guidepost`: English stemming (as SQLite's porter tokenizer) and,
-- as there, no stop words, so "the" or "how" find what contains them.
CREATE TEXT SEARCH DICTIONARY guidepost_english (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION guidepost (COPY = english);
ALTER TEXT SEARCH CONFIGURATION guidepost
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
    WITH guidepost_english;

CREATE TABLE articles_fts (
    article_id integer PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    title text NOT NULL,
    summary text NOT NULL,
    body_text text NOT NULL,
    members_text text NOT NULL DEFAULT '',
    public_document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('guidepost', title), 'A')
        || setweight(to_tsvector('guidepost', summary), 'B')
        || setweight(to_tsvector('guidepost', body_text), 'C')
    ) STORED,
    document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('guidepost', title), 'A')
        || setweight(to_tsvector('guidepost', summary), 'B')
        || setweight(to_tsvector('guidepost', body_text), 'C')
        || setweight(to_tsvector('guidepost', members_text), 'D')
    ) STORED
);
CREATE INDEX articles_fts_public ON articles_fts USING gin (public_document);
CREATE INDEX articles_fts_all ON articles_fts USING gin (document);

SELECT guidepost_watch_tables();
