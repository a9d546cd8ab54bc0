-- Template read models behind listTemplates: one row per template, and one per copy of it in a
-- zone's image store (state Downloading, Ready or Failed, with sizes or the reason it failed).
-- `templates.size` is the image's virtual size once any zone has it. Owner columns let list
-- scopes match on account and domain path as elsewhere.
CREATE TABLE templates (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_text TEXT NOT NULL,
    url TEXT NOT NULL,
    hypervisor TEXT NOT NULL,
    format TEXT NOT NULL,
    os_type_id TEXT NOT NULL,
    is_featured INTEGER NOT NULL DEFAULT 0,
    is_public INTEGER NOT NULL DEFAULT 0,
    is_extractable INTEGER NOT NULL DEFAULT 0,
    password_enabled INTEGER NOT NULL DEFAULT 0,
    requires_hvm INTEGER NOT NULL DEFAULT 1,
    bits INTEGER NOT NULL DEFAULT 64,
    checksum TEXT NOT NULL DEFAULT '',
    template_tag TEXT NOT NULL DEFAULT '',
    template_type TEXT NOT NULL,
    cross_zones INTEGER NOT NULL DEFAULT 0,
    details TEXT NOT NULL DEFAULT '{}',
    sort_key INTEGER NOT NULL DEFAULT 0,
    size BIGINT NOT NULL DEFAULT 0,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    domain_path TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX templates_owner ON templates (removed, account_id);
CREATE INDEX templates_domain ON templates (domain_path);

CREATE TABLE template_zones (
    template_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    size BIGINT NOT NULL DEFAULT 0,
    physical_size BIGINT NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    PRIMARY KEY (template_id, zone_id)
);
