-- API requests per account in the current throttling window (api.throttling.*). Not a read
-- model: the API processes count here, where every one of them sees the same count.
CREATE TABLE api_counts (
    account_id TEXT PRIMARY KEY,
    window_start DOUBLE PRECISION NOT NULL,
    issued BIGINT NOT NULL
);
