DROP INDEX articles_by_updated;
DROP INDEX users_by_created;
DROP TABLE audit_log;
DROP TABLE page_views;
DROP TABLE slug_redirects;
ALTER TABLE articles DROP COLUMN cover_alt;
ALTER TABLE articles DROP COLUMN cover_image_id;
ALTER TABLE articles DROP COLUMN version;
DROP TABLE images;
