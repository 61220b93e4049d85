-- AlterTable
ALTER TABLE "BulkAction" ADD COLUMN     "cursor" TEXT;

-- CreateIndex
CREATE INDEX "TaskRun_createdAt_id_idx" ON "TaskRun"("createdAt" DESC, "id");

-- CreateIndex
CREATE INDEX "TaskRun_status_createdAt_idx" ON "TaskRun"("status", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "TaskRun_idempotencyKey_idx" ON "TaskRun"("idempotencyKey");

