-- Projects (listProjects), their member accounts (listProjectAccounts, and who may act on a
-- project's resources) and their invitations (listProjectInvitations).
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_text TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX projects_account ON projects (account_id);
CREATE INDEX projects_domain ON projects (removed, domain_id, name);

CREATE TABLE project_members (
    project_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    project_account_id TEXT NOT NULL,
    role TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (project_id, account_id)
);
CREATE INDEX project_members_account ON project_members (account_id);

CREATE TABLE project_invitations (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX project_invitations_project ON project_invitations (project_id, account_id);
