-- What prisma/schema.prisma cannot say about the database, applied after the SQL Prisma derives
-- from it wherever the schema alone builds a database (the test that the migrations and the schema
-- describe the same database). A migration that changes anything here changes this file with it.

-- TaskRun's generated columns (declared in schema.prisma as plain columns, which Prisma creates)
-- and their partial indexes: see the migration hot_step_updates for why.
ALTER TABLE "TaskRun"
  DROP COLUMN "finalStatus",
  DROP COLUMN "delayedUntil",
  DROP COLUMN "delayedDebounceKey",
  DROP COLUMN "expiringAt",
  DROP COLUMN "pendingVersionTask",
  DROP COLUMN "liveConcurrencyKey";
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

ALTER TABLE "TaskRun" SET (fillfactor = 70);

-- TaskRun's indexes on columns that most runs leave NULL: see the migration sparse_run_indexes.
CREATE INDEX "TaskRun_parentRunId_idx" ON "TaskRun"("parentRunId") WHERE "parentRunId" IS NOT NULL;
CREATE INDEX "TaskRun_rootRunId_idx" ON "TaskRun"("rootRunId") WHERE "rootRunId" IS NOT NULL;
CREATE INDEX "TaskRun_batchId_idx" ON "TaskRun"("batchId") WHERE "batchId" IS NOT NULL;
CREATE INDEX "TaskRun_idempotencyKey_idx" ON "TaskRun"("idempotencyKey") WHERE "idempotencyKey" IS NOT NULL;
