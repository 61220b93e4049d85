-- Every step of a run changes "TaskRun"."status". While an index held it, each step wrote a new
-- entry in every index of the table; without one, the steps between trigger and the final state
-- are HOT updates that touch no index. What those indexes served reads generated columns instead,
-- each changing only at rare transitions, under partial indexes (see prisma/schema-extras.sql):
-- lists by status split into live runs (finalStatus NULL, ordered by createdAt) and final ones
-- (by finalStatus); the sweeps and lookups each have a column that is non-NULL only in the
-- statuses they look for. Adding stored generated columns rewrites the table under an exclusive
-- lock: on a large TaskRun table, apply this migration in a quiet window.
DROP INDEX "TaskRun_environmentId_status_createdAt_idx";
DROP INDEX "TaskRun_status_delayUntil_idx";
DROP INDEX "TaskRun_status_expiresAt_idx";
DROP INDEX "TaskRun_status_createdAt_idx";

ALTER TABLE "TaskRun"
  ADD COLUMN "finalStatus" "TaskRunStatus" GENERATED ALWAYS AS (CASE WHEN "status" IN ('COMPLETED_SUCCESSFULLY', 'COMPLETED_WITH_ERRORS', 'CANCELED', 'SYSTEM_FAILURE', 'CRASHED', 'EXPIRED', 'TIMED_OUT') THEN "status" END) STORED,
  ADD COLUMN "delayedUntil" TIMESTAMP(3) GENERATED ALWAYS AS (CASE WHEN "status" = 'DELAYED' THEN "delayUntil" END) STORED,
  ADD COLUMN "delayedDebounceKey" TEXT GENERATED ALWAYS AS (CASE WHEN "status" = 'DELAYED' THEN "debounce" ->> 'key' END) STORED,
  ADD COLUMN "expiringAt" TIMESTAMP(3) GENERATED ALWAYS AS (CASE WHEN "status" IN ('PENDING', 'PENDING_VERSION') AND "startedAt" IS NULL THEN "expiresAt" END) STORED,
  ADD COLUMN "pendingVersionTask" TEXT GENERATED ALWAYS AS (CASE WHEN "status" = 'PENDING_VERSION' THEN "taskIdentifier" END) STORED,
  ADD COLUMN "liveConcurrencyKey" TEXT GENERATED ALWAYS AS (CASE WHEN "status" NOT IN ('COMPLETED_SUCCESSFULLY', 'COMPLETED_WITH_ERRORS', 'CANCELED', 'SYSTEM_FAILURE', 'CRASHED', 'EXPIRED', 'TIMED_OUT') THEN "concurrencyKey" END) STORED;

CREATE INDEX "TaskRun_live_environmentId_createdAt_id_idx" ON "TaskRun"("environmentId", "createdAt" DESC, "id" DESC) WHERE "finalStatus" IS NULL;
CREATE INDEX "TaskRun_live_createdAt_id_idx" ON "TaskRun"("createdAt" DESC, "id" DESC) WHERE "finalStatus" IS NULL;
CREATE INDEX "TaskRun_environmentId_finalStatus_createdAt_id_idx" ON "TaskRun"("environmentId", "finalStatus", "createdAt" DESC, "id" DESC) WHERE "finalStatus" IS NOT NULL;
CREATE INDEX "TaskRun_finalStatus_createdAt_id_idx" ON "TaskRun"("finalStatus", "createdAt" DESC, "id" DESC) WHERE "finalStatus" IS NOT NULL;
CREATE INDEX "TaskRun_delayedUntil_idx" ON "TaskRun"("delayedUntil") WHERE "delayedUntil" IS NOT NULL;
CREATE INDEX "TaskRun_delayedDebounceKey_idx" ON "TaskRun"("environmentId", "taskIdentifier", "delayedDebounceKey", "createdAt" DESC) WHERE "delayedDebounceKey" IS NOT NULL;
CREATE INDEX "TaskRun_expiringAt_idx" ON "TaskRun"("expiringAt") WHERE "expiringAt" IS NOT NULL;
CREATE INDEX "TaskRun_pendingVersionTask_idx" ON "TaskRun"("environmentId", "pendingVersionTask") WHERE "pendingVersionTask" IS NOT NULL;
CREATE INDEX "TaskRun_liveConcurrencyKey_idx" ON "TaskRun"("environmentId", "queue", "liveConcurrencyKey") WHERE "liveConcurrencyKey" IS NOT NULL;

-- room on each page for a run's next row versions, which a HOT update must place on the same page
ALTER TABLE "TaskRun" SET (fillfactor = 70);
