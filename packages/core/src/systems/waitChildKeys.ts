/**
 * Idempotency keys of the runs a parent's wait triggers (triggerAndWait, batchTriggerAndWait).
 * The wait is named by its parent run and its position in the parent's journal, which a retried
 * attempt's replay reproduces, so the retry gets back the children its earlier attempt triggered
 * instead of triggering more. They share the idempotency key column with users' keys, under a
 * prefix users may not use, and never expire.
 */
export const reservedIdempotencyKeyPrefix = "runengine:";

/** The key of the wait's child (`batchIndex` omitted), of its batch's item `batchIndex`, or of its batch row. */
export function waitChildKey(parentRunId: string, journalIndex: number, batchIndex?: number): string {
  const wait = `${reservedIdempotencyKeyPrefix}wait:${parentRunId}:${journalIndex}`;
  return batchIndex === undefined ? wait : `${wait}:${batchIndex}`;
}

/** True for a key only the engine may set. */
export function isReservedIdempotencyKey(key: string): boolean {
  return key.startsWith(reservedIdempotencyKeyPrefix);
}
