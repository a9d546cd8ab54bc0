-- Resource limits set on an account or a domain (listResourceLimits); a type without a row
-- takes its limit from above (a domain's parents) or from the max.account.* / max.domain.*
-- settings.
CREATE TABLE resource_limits (
    owner_id TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    resource_type INTEGER NOT NULL,
    max BIGINT NOT NULL,
    PRIMARY KEY (owner_id, resource_type)
);
