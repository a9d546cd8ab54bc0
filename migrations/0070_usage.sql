-- Usage billing (projections/usage.py, stratus/usage/billing.py).
-- usage_billing: the billing run's single state row: how far it has read the log, which
-- periods it has closed, and when it last succeeded (a stalled run raises an alert).
CREATE TABLE usage_billing (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    origin_ms BIGINT,
    billed_until_ms BIGINT,
    reopen_from_ms BIGINT,
    raw_horizon_ms BIGINT,
    last_success TEXT,
    last_error TEXT,
    updated_at TEXT NOT NULL
);
-- The "raw usage": spans of use (open ones end at 2^62), the identities of used resources,
-- and the usage settings as they changed. removeRawUsageRecords prunes old closed spans.
CREATE TABLE usage_spans (
    usage_type INTEGER NOT NULL,
    usage_id TEXT NOT NULL,
    sub TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    amount BIGINT,
    account_id TEXT,
    domain_id TEXT,
    zone_id TEXT,
    name TEXT NOT NULL,
    attrs TEXT NOT NULL,
    PRIMARY KEY (usage_type, usage_id, sub, start_ms, attrs)
);
CREATE INDEX usage_spans_end ON usage_spans (end_ms);
CREATE TABLE usage_resources (
    id TEXT PRIMARY KEY,
    identity TEXT NOT NULL
);
CREATE TABLE usage_settings (
    at_ms BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (seq)
);
-- The usage records: one per period, resource and terms. The primary key is what makes a
-- repeated or resumed run unable to write a record twice.
CREATE TABLE usage_records (
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    timezone TEXT NOT NULL,
    usage_type INTEGER NOT NULL,
    usage_id TEXT NOT NULL,
    sub TEXT NOT NULL,
    attrs TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT,
    zone_id TEXT,
    name TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (start_ms, usage_type, usage_id, sub, attrs, account_id)
);
CREATE INDEX usage_records_account ON usage_records (account_id, start_ms);
CREATE INDEX usage_records_domain ON usage_records (domain_id, start_ms);
