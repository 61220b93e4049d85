/** The status a user sees on a run (`TaskRun.status`). */
export const runStatuses = [
  "DELAYED",
  "PENDING",
  "PENDING_VERSION",
  "DEQUEUED",
  "EXECUTING",
  "WAITING_TO_RESUME",
  "RETRYING_AFTER_FAILURE",
  "COMPLETED_SUCCESSFULLY",
  "COMPLETED_WITH_ERRORS",
  "CANCELED",
  "SYSTEM_FAILURE",
  "CRASHED",
  "EXPIRED",
  "TIMED_OUT",
] as const;
export type RunStatus = (typeof runStatuses)[number];

/** Statuses a run never leaves: polling stops here. */
export const finalRunStatuses: ReadonlySet<RunStatus> = new Set<RunStatus>([
  "COMPLETED_SUCCESSFULLY",
  "COMPLETED_WITH_ERRORS",
  "CANCELED",
  "SYSTEM_FAILURE",
  "CRASHED",
  "EXPIRED",
  "TIMED_OUT",
]);

export function isFinalRunStatus(status: RunStatus): boolean {
  return finalRunStatuses.has(status);
}
