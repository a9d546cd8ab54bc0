-- A login session holds while its user's and account's epochs are those it was opened at.
-- Disabling, locking, deleting or a new password moves an epoch on, for every API process alike.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
