DROP TRIGGER articles_fts_after_update;
DROP TRIGGER articles_fts_after_delete;
DROP TRIGGER articles_fts_after_insert;
DROP TABLE articles_fts;
