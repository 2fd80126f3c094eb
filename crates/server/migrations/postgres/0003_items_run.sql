-- A run's queue item (the run page's "from queue" link, the extension's
-- relaunch): claimed items by the run they started.
CREATE INDEX items_run ON items (associated_run_id) WHERE associated_run_id IS NOT NULL;
