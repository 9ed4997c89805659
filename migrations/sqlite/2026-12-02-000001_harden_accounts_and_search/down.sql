DROP TRIGGER articles_fts_after_delete;
-- Going back loses the search index's body text: re-import or re-save articles to index them again.
DROP TABLE articles_fts;
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title,
    summary,
    body_text,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO articles_fts (rowid, title, summary, body_text)
SELECT id, title, summary, '' FROM articles;
CREATE TRIGGER articles_fts_after_delete AFTER DELETE ON articles BEGIN
    DELETE FROM articles_fts WHERE rowid = old.id;
END;
DROP TABLE derived_data;
DROP TABLE pending_signups;
