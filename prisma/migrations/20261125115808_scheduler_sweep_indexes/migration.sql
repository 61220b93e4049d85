-- CreateIndex
CREATE INDEX "TaskRun_status_delayUntil_idx" ON "TaskRun"("status", "delayUntil");

-- CreateIndex
CREATE INDEX "TaskRun_status_expiresAt_idx" ON "TaskRun"("status", "expiresAt");
