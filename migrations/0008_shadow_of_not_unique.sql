-- No index on shadow_of: the shadow run's id (the primary key) is already one per control run,
-- nothing looks rows up by shadow_of, and its unique index broke the upserts of a pair's two
-- halves landing at once (ON CONFLICT (id) arbitrates on the primary key only; the other unique
-- index raised a duplicate key).
DROP INDEX "shadow_runs_shadow_of_idx";
