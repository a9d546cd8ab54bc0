-- Invitations by e-mail: the address invited (no account until one answers with the token).
ALTER TABLE project_invitations ADD COLUMN email TEXT NOT NULL DEFAULT '';
