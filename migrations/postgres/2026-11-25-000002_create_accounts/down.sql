DROP TABLE settings;
DROP TABLE outbox;
DROP TABLE email_tokens;
DROP TABLE throttle_events;
DROP TABLE sessions;
DROP INDEX users_by_trial_end;
ALTER TABLE users DROP COLUMN trial_reminder_sent_at;
