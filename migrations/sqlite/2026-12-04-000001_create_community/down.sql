DROP TABLE follows;
DROP TABLE saved_articles;
DROP TABLE comments;
ALTER TABLE articles DROP COLUMN comments_closed;
DROP TABLE handle_redirects;
ALTER TABLE users DROP COLUMN image_id;
DROP INDEX users_by_handle;
ALTER TABLE users DROP COLUMN handle;
