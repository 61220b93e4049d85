-- Most runs have no parent, root, batch or idempotency key. A full index holds an entry for each
-- NULL too, written when the run is created and again at its final step (not a HOT update); a
-- partial index skips them, and still serves every lookup by a value (x = $1 implies x IS NOT NULL).
DROP INDEX "TaskRun_parentRunId_idx";
DROP INDEX "TaskRun_rootRunId_idx";
DROP INDEX "TaskRun_batchId_idx";
DROP INDEX "TaskRun_idempotencyKey_idx";

CREATE INDEX "TaskRun_parentRunId_idx" ON "TaskRun"("parentRunId") WHERE "parentRunId" IS NOT NULL;
CREATE INDEX "TaskRun_rootRunId_idx" ON "TaskRun"("rootRunId") WHERE "rootRunId" IS NOT NULL;
CREATE INDEX "TaskRun_batchId_idx" ON "TaskRun"("batchId") WHERE "batchId" IS NOT NULL;
CREATE INDEX "TaskRun_idempotencyKey_idx" ON "TaskRun"("idempotencyKey") WHERE "idempotencyKey" IS NOT NULL;
