-- The sweeper's once-a-second release of expired leases, and the reaper's
-- claimed items of agents gone quiet, read only the few rows they are about
-- (without these, every item the server ever ran was scanned each second,
-- holding SQLite's write lock while it did).
CREATE INDEX items_leased ON items (lease_expires_at) WHERE state = 'LEASED';
CREATE INDEX items_claimed_agent ON items (agent_id) WHERE state = 'CLAIMED';
