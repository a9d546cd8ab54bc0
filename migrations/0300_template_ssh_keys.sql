-- Whether a template's guest takes an SSH key (registerTemplate sshkeyenabled; listTemplates
-- sshkeyenabled). Templates registered before were never marked.
ALTER TABLE templates ADD COLUMN ssh_key_enabled INTEGER NOT NULL DEFAULT 0;
