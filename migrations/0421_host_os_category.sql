-- The guest OS category a host prefers (updateHost oscategoryid): placement tries it first for
-- VMs of that category, as 4.3's host allocator does; NULL when it prefers none.
ALTER TABLE hosts ADD COLUMN os_category_id TEXT;
