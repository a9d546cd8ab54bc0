-- How many volumes (not destroyed) each account has: an unfiltered listVolumes counts from here
-- instead of joining and reading every volume (100,000 volumes cost tens of ms per page).
CREATE TABLE volume_counts (
    account_id TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);
INSERT INTO volume_counts (account_id, n)
SELECT account_id, count(*) FROM volumes WHERE removed = 0 GROUP BY account_id;
