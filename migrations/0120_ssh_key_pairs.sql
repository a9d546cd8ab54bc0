-- SSH key pairs (listSSHKeyPairs): the name, public key and fingerprint of each live pair, and
-- the key pair a VM was given (listVirtualMachines' `keypair`). No private key or password is
-- kept here.
CREATE TABLE ssh_key_pairs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    public_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    account_id TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    created TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ssh_key_pairs_owner ON ssh_key_pairs (removed, account_id, name);

ALTER TABLE virtual_machines ADD COLUMN keypair TEXT;
