DROP TABLE users;
DROP FUNCTION guidepost_watch_tables();
DROP FUNCTION guidepost_changed();
