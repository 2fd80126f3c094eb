-- The template-variable values an item was pushed with (a JSON object, or
-- NULL when none): the queue page shows them, a requeue or retry keeps them.
ALTER TABLE items ADD COLUMN template_values TEXT;
