-- Which secret key the store's sealed values are written with: its fingerprint (never the key),
-- recorded by the first process that opens the store, checked by every process at start
-- (stratus/store/data_key.py). One row at most.
CREATE TABLE stratus_secret_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
