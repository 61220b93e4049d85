-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "EnvironmentType" AS ENUM ('DEVELOPMENT', 'STAGING', 'PRODUCTION');

-- CreateEnum
CREATE TYPE "TaskRunStatus" AS ENUM ('DELAYED', 'PENDING', 'PENDING_VERSION', 'DEQUEUED', 'EXECUTING', 'WAITING_TO_RESUME', 'RETRYING_AFTER_FAILURE', 'COMPLETED_SUCCESSFULLY', 'COMPLETED_WITH_ERRORS', 'CANCELED', 'SYSTEM_FAILURE', 'CRASHED', 'EXPIRED', 'TIMED_OUT');

-- CreateEnum
CREATE TYPE "ExecutionStatus" AS ENUM ('RUN_CREATED', 'DELAYED', 'QUEUED', 'PENDING_EXECUTING', 'EXECUTING', 'EXECUTING_WITH_WAITPOINTS', 'SUSPENDED', 'PENDING_CANCEL', 'FINISHED');

-- CreateEnum
CREATE TYPE "WaitpointType" AS ENUM ('RUN', 'DATETIME', 'MANUAL', 'BATCH');

-- CreateEnum
CREATE TYPE "WaitpointStatus" AS ENUM ('PENDING', 'COMPLETED');

-- CreateEnum
CREATE TYPE "BatchStatus" AS ENUM ('PENDING', 'COMPLETED');

-- CreateEnum
CREATE TYPE "ScheduleType" AS ENUM ('DECLARATIVE', 'IMPERATIVE');

-- CreateEnum
CREATE TYPE "BulkActionType" AS ENUM ('CANCEL', 'REPLAY');

-- CreateEnum
CREATE TYPE "BulkActionStatus" AS ENUM ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED');

-- CreateTable
CREATE TABLE "Organization" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Organization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RuntimeEnvironment" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" "EnvironmentType" NOT NULL DEFAULT 'DEVELOPMENT',
    "concurrencyLimit" INTEGER,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RuntimeEnvironment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "keyHash" TEXT NOT NULL,
    "keyPrefix" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TaskQueue" (
    "id" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "concurrencyLimit" INTEGER,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "rateLimit" INTEGER,
    "rateLimitPeriodMs" INTEGER,
    "rateLimitPerKey" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TaskQueue_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WorkerDeployment" (
    "id" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WorkerDeployment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BackgroundTask" (
    "id" TEXT NOT NULL,
    "deploymentId" TEXT NOT NULL,
    "taskIdentifier" TEXT NOT NULL,
    "queueName" TEXT NOT NULL,
    "retryConfig" JSONB,
    "maxDurationSeconds" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BackgroundTask_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WorkerInstance" (
    "id" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "deploymentId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "concurrency" INTEGER NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stoppedAt" TIMESTAMP(3),

    CONSTRAINT "WorkerInstance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TaskRun" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "taskIdentifier" TEXT NOT NULL,
    "status" "TaskRunStatus" NOT NULL DEFAULT 'PENDING',
    "payload" JSONB,
    "queue" TEXT NOT NULL,
    "concurrencyKey" TEXT,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "idempotencyKey" TEXT,
    "idempotencyKeyExpiresAt" TIMESTAMP(3),
    "delayUntil" TIMESTAMP(3),
    "ttl" TEXT,
    "expiresAt" TIMESTAMP(3),
    "debounce" JSONB,
    "maxAttempts" INTEGER,
    "attemptNumber" INTEGER NOT NULL DEFAULT 0,
    "maxDurationSeconds" INTEGER,
    "tags" TEXT[],
    "metadata" JSONB,
    "parentRunId" TEXT,
    "rootRunId" TEXT,
    "depth" INTEGER NOT NULL DEFAULT 0,
    "resumeParentOnCompletion" BOOLEAN NOT NULL DEFAULT false,
    "batchId" TEXT,
    "batchIndex" INTEGER,
    "scheduleId" TEXT,
    "replayedFromRunId" TEXT,
    "lockedToDeploymentId" TEXT,
    "output" JSONB,
    "error" JSONB,
    "queuedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "TaskRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ExecutionSnapshot" (
    "id" TEXT NOT NULL,
    "sequence" BIGSERIAL NOT NULL,
    "runId" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "executionStatus" "ExecutionStatus" NOT NULL,
    "runStatus" "TaskRunStatus" NOT NULL,
    "description" TEXT NOT NULL,
    "isValid" BOOLEAN NOT NULL DEFAULT true,
    "error" TEXT,
    "attemptNumber" INTEGER,
    "checkpointId" TEXT,
    "workerId" TEXT,
    "previousSnapshotId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ExecutionSnapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SnapshotCompletedWaitpoint" (
    "snapshotId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "waitpointId" TEXT NOT NULL,

    CONSTRAINT "SnapshotCompletedWaitpoint_pkey" PRIMARY KEY ("snapshotId","index")
);

-- CreateTable
CREATE TABLE "Waitpoint" (
    "id" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "type" "WaitpointType" NOT NULL,
    "status" "WaitpointStatus" NOT NULL DEFAULT 'PENDING',
    "completedByRunId" TEXT,
    "completedByBatchId" TEXT,
    "completedAfter" TIMESTAMP(3),
    "timeoutAt" TIMESTAMP(3),
    "idempotencyKey" TEXT,
    "idempotencyKeyExpiresAt" TIMESTAMP(3),
    "output" JSONB,
    "outputIsError" BOOLEAN NOT NULL DEFAULT false,
    "completedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Waitpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TaskRunWaitpoint" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "waitpointId" TEXT NOT NULL,
    "batchIndex" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TaskRunWaitpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Checkpoint" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "attemptNumber" INTEGER NOT NULL,
    "deploymentId" TEXT NOT NULL,
    "journal" JSONB NOT NULL,
    "reason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Checkpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Batch" (
    "id" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "taskIdentifier" TEXT NOT NULL,
    "status" "BatchStatus" NOT NULL DEFAULT 'PENDING',
    "runCount" INTEGER NOT NULL,
    "idempotencyKey" TEXT,
    "parentRunId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "Batch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Schedule" (
    "id" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "taskIdentifier" TEXT NOT NULL,
    "type" "ScheduleType" NOT NULL DEFAULT 'IMPERATIVE',
    "cron" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "externalId" TEXT,
    "deduplicationKey" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "lastTickAt" TIMESTAMP(3),
    "nextTickAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Schedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BulkAction" (
    "id" TEXT NOT NULL,
    "environmentId" TEXT,
    "type" "BulkActionType" NOT NULL,
    "status" "BulkActionStatus" NOT NULL DEFAULT 'PENDING',
    "filter" JSONB NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "processed" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "BulkAction_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Organization_slug_key" ON "Organization"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "RuntimeEnvironment_organizationId_name_key" ON "RuntimeEnvironment"("organizationId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_keyHash_key" ON "ApiKey"("keyHash");

-- CreateIndex
CREATE INDEX "ApiKey_environmentId_idx" ON "ApiKey"("environmentId");

-- CreateIndex
CREATE UNIQUE INDEX "TaskQueue_environmentId_name_key" ON "TaskQueue"("environmentId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "WorkerDeployment_environmentId_version_key" ON "WorkerDeployment"("environmentId", "version");

-- CreateIndex
CREATE INDEX "BackgroundTask_taskIdentifier_idx" ON "BackgroundTask"("taskIdentifier");

-- CreateIndex
CREATE UNIQUE INDEX "BackgroundTask_deploymentId_taskIdentifier_key" ON "BackgroundTask"("deploymentId", "taskIdentifier");

-- CreateIndex
CREATE INDEX "WorkerInstance_environmentId_lastSeenAt_idx" ON "WorkerInstance"("environmentId", "lastSeenAt");

-- CreateIndex
CREATE INDEX "TaskRun_environmentId_status_createdAt_idx" ON "TaskRun"("environmentId", "status", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "TaskRun_environmentId_createdAt_id_idx" ON "TaskRun"("environmentId", "createdAt" DESC, "id");

-- CreateIndex
CREATE INDEX "TaskRun_environmentId_taskIdentifier_createdAt_idx" ON "TaskRun"("environmentId", "taskIdentifier", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "TaskRun_parentRunId_idx" ON "TaskRun"("parentRunId");

-- CreateIndex
CREATE INDEX "TaskRun_rootRunId_idx" ON "TaskRun"("rootRunId");

-- CreateIndex
CREATE INDEX "TaskRun_batchId_idx" ON "TaskRun"("batchId");

-- CreateIndex
CREATE INDEX "TaskRun_tags_idx" ON "TaskRun" USING GIN ("tags");

-- CreateIndex
CREATE UNIQUE INDEX "TaskRun_environmentId_taskIdentifier_idempotencyKey_key" ON "TaskRun"("environmentId", "taskIdentifier", "idempotencyKey");

-- CreateIndex
CREATE INDEX "ExecutionSnapshot_runId_isValid_sequence_idx" ON "ExecutionSnapshot"("runId", "isValid", "sequence" DESC);

-- CreateIndex
CREATE INDEX "SnapshotCompletedWaitpoint_waitpointId_idx" ON "SnapshotCompletedWaitpoint"("waitpointId");

-- CreateIndex
CREATE UNIQUE INDEX "Waitpoint_completedByRunId_key" ON "Waitpoint"("completedByRunId");

-- CreateIndex
CREATE UNIQUE INDEX "Waitpoint_completedByBatchId_key" ON "Waitpoint"("completedByBatchId");

-- CreateIndex
CREATE INDEX "Waitpoint_environmentId_type_status_idx" ON "Waitpoint"("environmentId", "type", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Waitpoint_environmentId_idempotencyKey_key" ON "Waitpoint"("environmentId", "idempotencyKey");

-- CreateIndex
CREATE INDEX "TaskRunWaitpoint_waitpointId_idx" ON "TaskRunWaitpoint"("waitpointId");

-- CreateIndex
CREATE UNIQUE INDEX "TaskRunWaitpoint_runId_waitpointId_batchIndex_key" ON "TaskRunWaitpoint"("runId", "waitpointId", "batchIndex");

-- CreateIndex
CREATE INDEX "Checkpoint_runId_createdAt_idx" ON "Checkpoint"("runId", "createdAt" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "Batch_environmentId_idempotencyKey_key" ON "Batch"("environmentId", "idempotencyKey");

-- CreateIndex
CREATE INDEX "Schedule_environmentId_taskIdentifier_idx" ON "Schedule"("environmentId", "taskIdentifier");

-- CreateIndex
CREATE UNIQUE INDEX "Schedule_environmentId_deduplicationKey_key" ON "Schedule"("environmentId", "deduplicationKey");

-- AddForeignKey
ALTER TABLE "RuntimeEnvironment" ADD CONSTRAINT "RuntimeEnvironment_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskQueue" ADD CONSTRAINT "TaskQueue_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkerDeployment" ADD CONSTRAINT "WorkerDeployment_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BackgroundTask" ADD CONSTRAINT "BackgroundTask_deploymentId_fkey" FOREIGN KEY ("deploymentId") REFERENCES "WorkerDeployment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkerInstance" ADD CONSTRAINT "WorkerInstance_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkerInstance" ADD CONSTRAINT "WorkerInstance_deploymentId_fkey" FOREIGN KEY ("deploymentId") REFERENCES "WorkerDeployment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskRun" ADD CONSTRAINT "TaskRun_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskRun" ADD CONSTRAINT "TaskRun_parentRunId_fkey" FOREIGN KEY ("parentRunId") REFERENCES "TaskRun"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskRun" ADD CONSTRAINT "TaskRun_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "Batch"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskRun" ADD CONSTRAINT "TaskRun_lockedToDeploymentId_fkey" FOREIGN KEY ("lockedToDeploymentId") REFERENCES "WorkerDeployment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExecutionSnapshot" ADD CONSTRAINT "ExecutionSnapshot_runId_fkey" FOREIGN KEY ("runId") REFERENCES "TaskRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExecutionSnapshot" ADD CONSTRAINT "ExecutionSnapshot_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SnapshotCompletedWaitpoint" ADD CONSTRAINT "SnapshotCompletedWaitpoint_snapshotId_fkey" FOREIGN KEY ("snapshotId") REFERENCES "ExecutionSnapshot"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SnapshotCompletedWaitpoint" ADD CONSTRAINT "SnapshotCompletedWaitpoint_waitpointId_fkey" FOREIGN KEY ("waitpointId") REFERENCES "Waitpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Waitpoint" ADD CONSTRAINT "Waitpoint_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Waitpoint" ADD CONSTRAINT "Waitpoint_completedByRunId_fkey" FOREIGN KEY ("completedByRunId") REFERENCES "TaskRun"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskRunWaitpoint" ADD CONSTRAINT "TaskRunWaitpoint_runId_fkey" FOREIGN KEY ("runId") REFERENCES "TaskRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskRunWaitpoint" ADD CONSTRAINT "TaskRunWaitpoint_waitpointId_fkey" FOREIGN KEY ("waitpointId") REFERENCES "Waitpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_runId_fkey" FOREIGN KEY ("runId") REFERENCES "TaskRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Batch" ADD CONSTRAINT "Batch_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BulkAction" ADD CONSTRAINT "BulkAction_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

