-- An account whose disabling could not stop all its VMs (4.3's `needs_cleanup`): listed by
-- listAccounts iscleanuprequired=true until a later disabling or enabling clears it.
ALTER TABLE accounts ADD COLUMN needs_cleanup INTEGER NOT NULL DEFAULT 0;
