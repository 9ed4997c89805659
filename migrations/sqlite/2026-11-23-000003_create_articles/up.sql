-- Articles keep their Markdown source beside everything rendered from it on save:
-- sanitised HTML for the body and the teaser, plain text for search, and the table of contents.
CREATE TABLE articles (
    id INTEGER PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    teaser_html TEXT NOT NULL,
    body_text TEXT NOT NULL,
    toc_json TEXT NOT NULL DEFAULT '[]',
    author_id INTEGER NOT NULL REFERENCES users (id),
    category_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'members')),
    featured BOOLEAN NOT NULL DEFAULT 0,
    reading_minutes INTEGER NOT NULL,
    published_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX articles_by_status_and_date ON articles (status, published_at DESC);
CREATE INDEX articles_by_category ON articles (category_id, status, published_at DESC);
CREATE INDEX articles_by_author ON articles (author_id);

CREATE TABLE article_tags (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (article_id, tag_id)
);

CREATE INDEX article_tags_by_tag ON article_tags (tag_id, article_id);
