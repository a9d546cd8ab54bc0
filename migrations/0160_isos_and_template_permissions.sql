-- ISOs are rows of `templates` with format ISO (hypervisor None); `bootable` says whether a VM
-- may boot from one (templates are always bootable). `template_permissions` holds the accounts
-- a template or ISO is shared with (updateTemplatePermissions op=add), besides its owner.
ALTER TABLE templates ADD COLUMN bootable INTEGER NOT NULL DEFAULT 1;
CREATE INDEX templates_format ON templates (format, removed);

CREATE TABLE template_permissions (
    template_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (template_id, account_id)
);
CREATE INDEX template_permissions_account ON template_permissions (account_id);
