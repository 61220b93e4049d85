-- AlterTable
ALTER TABLE "TaskRun" ADD COLUMN     "latestSnapshotId" TEXT;


-- Runs created before this column: their newest valid snapshot, as the change fence needs it
UPDATE "TaskRun" r
   SET "latestSnapshotId" = (SELECT s.id FROM "ExecutionSnapshot" s
                              WHERE s."runId" = r.id AND s."isValid"
                              ORDER BY s.sequence DESC LIMIT 1);
