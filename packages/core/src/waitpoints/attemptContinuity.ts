import type { ExecutionSnapshot, PrismaClient } from "@runengine/database";
import { isExecuting } from "../state-machine/statuses.ts";

/**
 * True when `latest` is a later snapshot of the same executing attempt, on the same worker, as the
 * snapshot the worker reported: a wait blocked it or its waitpoints completed while a report was
 * on its way. The worker still owns the run and just has not seen the newest snapshot id yet.
 */
export async function continuesSameAttempt(prisma: PrismaClient, latest: ExecutionSnapshot, report: { workerId: string; snapshotId: string }): Promise<boolean> {
  if (!isExecuting(latest.executionStatus) || latest.workerId !== report.workerId) return false;
  const reported = await prisma.executionSnapshot.findUnique({
    where: { id: report.snapshotId },
    select: { runId: true, isValid: true, executionStatus: true, attemptNumber: true, workerId: true, sequence: true },
  });
  return (
    reported !== null &&
    reported.isValid &&
    reported.runId === latest.runId &&
    isExecuting(reported.executionStatus) &&
    reported.workerId === report.workerId &&
    reported.attemptNumber === latest.attemptNumber &&
    reported.sequence < latest.sequence
  );
}
