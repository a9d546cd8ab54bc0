-- Keys a store's sealed values were once written with, retired by `stratus rekey`: their
-- fingerprints (never the keys). Values sealed with them stay sealed with them (the event log is
-- never rewritten), so a process still needs these keys to open those values; but none may be
-- a process's current key again (stratus/store/data_key.py).
CREATE TABLE stratus_retired_keys (
    fingerprint TEXT PRIMARY KEY,
    retired_at TEXT NOT NULL
);
