-- Each read model's shape version: the projector rebuilds a read model whose code has moved on.

ALTER TABLE projection_checkpoints ADD COLUMN version integer NOT NULL DEFAULT 1;
