-- Every step of a run changes "TaskRun"."status". While an index held it, each step wrote a new
-- entry in every index of the table; without one, a step is a HOT update that touches no index.
-- The lookups those indexes served read generated columns instead, each non-NULL only in the rare
-- statuses its lookup needs, under partial indexes (see prisma/schema-extras.sql). Lists filtered
-- by status walk the createdAt indexes.
DROP INDEX "TaskRun_environmentId_status_createdAt_idx";
DROP INDEX "TaskRun_status_delayUntil_idx";
DROP INDEX "TaskRun_status_expiresAt_idx";
DROP INDEX "TaskRun_status_createdAt_idx";

ALTER TABLE "TaskRun"
  ADD COLUMN "delayedUntil" TIMESTAMP(3) GENERATED ALWAYS AS (CASE WHEN "status" = 'DELAYED' THEN "delayUntil" END) STORED,
  ADD COLUMN "delayedDebounceKey" TEXT GENERATED ALWAYS AS (CASE WHEN "status" = 'DELAYED' THEN "debounce" ->> 'key' END) STORED,
  ADD COLUMN "expiringAt" TIMESTAMP(3) GENERATED ALWAYS AS (CASE WHEN "status" IN ('PENDING', 'PENDING_VERSION') AND "startedAt" IS NULL THEN "expiresAt" END) STORED,
  ADD COLUMN "pendingVersionTask" TEXT GENERATED ALWAYS AS (CASE WHEN "status" = 'PENDING_VERSION' THEN "taskIdentifier" END) STORED,
  ADD COLUMN "liveConcurrencyKey" TEXT GENERATED ALWAYS AS (CASE WHEN "status" NOT IN ('COMPLETED_SUCCESSFULLY', 'COMPLETED_WITH_ERRORS', 'CANCELED', 'SYSTEM_FAILURE', 'CRASHED', 'EXPIRED', 'TIMED_OUT') THEN "concurrencyKey" END) STORED;

CREATE INDEX "TaskRun_delayedUntil_idx" ON "TaskRun"("delayedUntil") WHERE "delayedUntil" IS NOT NULL;
CREATE INDEX "TaskRun_delayedDebounceKey_idx" ON "TaskRun"("environmentId", "taskIdentifier", "delayedDebounceKey", "createdAt" DESC) WHERE "delayedDebounceKey" IS NOT NULL;
CREATE INDEX "TaskRun_expiringAt_idx" ON "TaskRun"("expiringAt") WHERE "expiringAt" IS NOT NULL;
CREATE INDEX "TaskRun_pendingVersionTask_idx" ON "TaskRun"("environmentId", "pendingVersionTask") WHERE "pendingVersionTask" IS NOT NULL;
CREATE INDEX "TaskRun_liveConcurrencyKey_idx" ON "TaskRun"("environmentId", "queue", "liveConcurrencyKey") WHERE "liveConcurrencyKey" IS NOT NULL;

-- room on each page for a run's next row versions, which a HOT update must place on the same page
ALTER TABLE "TaskRun" SET (fillfactor = 70);
