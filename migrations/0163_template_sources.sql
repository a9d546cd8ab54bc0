-- The template a template was made from (createTemplate: the source VM's template), shown as
-- `sourcetemplateid`; NULL for registered templates and ISOs.
ALTER TABLE templates ADD COLUMN source_template_id TEXT;
