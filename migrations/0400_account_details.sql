-- An account's details (4.3's `accountdetails`): key to value, as one JSON object, answered by
-- listAccounts.
ALTER TABLE accounts ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
