-- When each destroyed VM was destroyed: the expunger takes those destroyed longer ago than
-- expunge.delay.
ALTER TABLE virtual_machines ADD COLUMN destroyed_at TEXT;
CREATE INDEX virtual_machines_destroyed ON virtual_machines (state, destroyed_at);
