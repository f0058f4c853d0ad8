-- The count of keys stored with both arms in one stage (variant 'both_arms' of
-- rollout_assignment_counts) is now kept as keys are stored; count those stored before.
INSERT INTO "rollout_assignment_counts" ("rollout_id", "stage", "variant", "keys")
SELECT "rollout_id", "stage", 'both_arms', count(*)::int FROM (
  SELECT "rollout_id", "stage" FROM "rollout_assignment_keys"
  GROUP BY "rollout_id", "stage", "key_hash" HAVING count(DISTINCT "variant") > 1
) k
GROUP BY "rollout_id", "stage"
ON CONFLICT ("rollout_id", "stage", "variant") DO NOTHING;
