-- Offers of a template or ISO for download (extractTemplate, extractIso): the zone it is
-- served from, who asked, and when the link stops working. The link itself is never stored:
-- it is signed from these facts with a key derived from the installation's secret key.
CREATE TABLE template_extracts (
    id TEXT PRIMARY KEY,
    template_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX template_extracts_template ON template_extracts (template_id);
