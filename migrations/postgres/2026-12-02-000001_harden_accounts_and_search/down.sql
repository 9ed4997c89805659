DROP TABLE derived_data;
DROP TABLE pending_signups;
