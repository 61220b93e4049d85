import { z } from "zod";
import { momentSchema } from "./duration.ts";
import { identifierSchema, triggerOptionsSchema, triggerRequestSchema } from "./trigger.ts";

/**
 * Waits and checkpoints at the edges: the worker protocol's wait/checkpoint/resume calls, the
 * journal a checkpoint carries, and the api's waitpoint tokens. A run waiting on a worker names the
 * snapshot it acted on, like every other worker report.
 */

const report = z.object({ workerId: z.string().min(1), snapshotId: z.string().min(1) });

/** An error as it travels inside a journal or a waitpoint's output. */
const journalErrorSchema = z.looseObject({ name: z.string(), message: z.string(), stack: z.string().optional() });

/**
 * One entry of a run's journal, in the order the task code reached it. A step records its result;
 * a wait records the waitpoints it blocked on, and its result once they completed (`completed`).
 * Replaying the task with the journal returns these results instead of doing the work again.
 */
export const journalEntrySchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("step"),
    id: z.string().min(1).max(256),
    result: z.discriminatedUnion("ok", [
      // a step that returns nothing records no output (JSON has no undefined)
      z.object({ ok: z.literal(true), output: z.unknown().optional() }),
      z.object({ ok: z.literal(false), error: journalErrorSchema }),
    ]),
  }),
  z.object({
    type: z.literal("wait"),
    /** what the code waited for (e.g. `wait.for`, `triggerAndWait:child-task`): a replay must ask for the same */
    id: z.string().min(1).max(256),
    waitpointIds: z.array(z.string().min(1)).max(1_000),
    /** the runs the wait triggered (triggerAndWait, batchTriggerAndWait) */
    runIds: z.array(z.string()).max(1_000).optional(),
    completed: z.boolean(),
    result: z.unknown().optional(),
  }),
]);
export type JournalEntry = z.output<typeof journalEntrySchema>;
export const journalSchema = z.array(journalEntrySchema).max(10_000);
export type Journal = z.output<typeof journalSchema>;

/** A completed waitpoint as a resumed worker receives it. */
export const completedWaitpointSchema = z.object({
  id: z.string(),
  type: z.enum(["RUN", "DATETIME", "MANUAL", "BATCH"]),
  output: z.unknown(),
  isError: z.boolean(),
});
export type CompletedWaitpoint = z.output<typeof completedWaitpointSchema>;
export const completedWaitpointsSchema = z.array(completedWaitpointSchema);

/** What a dequeued run restored from a checkpoint carries: the journal and what its waits returned. */
export const resumeFromCheckpointSchema = z.object({
  checkpointId: z.string(),
  journal: journalSchema,
  completedWaitpoints: completedWaitpointsSchema,
});
export type ResumeFromCheckpoint = z.output<typeof resumeFromCheckpointSchema>;

export const waitSpecSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("datetime"), until: z.coerce.date() }),
  z.object({ kind: z.literal("token"), tokenId: z.string().min(1) }),
  z.object({ kind: z.literal("run"), taskId: identifierSchema, payload: z.unknown().optional(), options: triggerOptionsSchema.optional() }),
  z.object({ kind: z.literal("batch"), taskId: identifierSchema, items: z.array(triggerRequestSchema).min(1).max(1_000) }),
]);
export type WaitSpec = z.output<typeof waitSpecSchema>;
export type WaitSpecInput = z.input<typeof waitSpecSchema>;

/** `POST /worker/runs/:runId/wait`: block the executing run on a new (or a token's) waitpoint. */
export const waitRequestSchema = report.extend({
  wait: waitSpecSchema,
  /**
   * Where the wait sits in the run's journal. A retried attempt replays to the same wait at the same
   * index, and gets the children its earlier attempt triggered instead of new ones. Older workers
   * leave it out; their waits trigger children each time.
   */
  journalIndex: z.number().int().min(0).max(10_000).optional(),
  /**
   * Sent by a worker that checkpoints a run whose wait does not end by itself within `thresholdMs`
   * (counted from when the engine received the call): the engine then checkpoints it in the same
   * call, with `journal` (the entries before this wait) and this wait's own entry, named `waitId`.
   */
  checkpoint: z.object({ waitId: z.string().min(1).max(256), journal: journalSchema, thresholdMs: z.number().int().min(0) }).optional(),
});
export type WaitRequest = z.output<typeof waitRequestSchema>;
export const waitResponseSchema = z.object({
  /** the EXECUTING_WITH_WAITPOINTS snapshot; a checkpoint names it */
  snapshotId: z.string(),
  /** in the order of the results (a batch: one per item) */
  waitpointIds: z.array(z.string()),
  /** runs the wait triggered (triggerAndWait, batchTriggerAndWait) */
  runIds: z.array(z.string()),
  /** when the wait ends by itself (a date, a token's timeout); null when only an event ends it */
  resumeAt: z.coerce.date().nullable(),
  /**
   * Answers a request's `checkpoint`: true when the run was checkpointed (it has left the worker),
   * false when it stays (its wait ends soon, or ended already). Absent when none was asked for.
   */
  checkpointed: z.boolean().optional(),
});
export type WaitResponse = z.output<typeof waitResponseSchema>;

/** `POST /worker/runs/:runId/wait/status`: has the wait the worker holds ended? */
export const waitStatusResponseSchema = z.object({
  /** waiting: still blocked; resumed: continue with these results; cancel: abort; stale: not ours anymore */
  state: z.enum(["waiting", "resumed", "cancel", "stale"]),
  snapshotId: z.string(),
  completedWaitpoints: z.array(completedWaitpointSchema),
});
export type WaitStatusResponse = z.output<typeof waitStatusResponseSchema>;

/** `POST /worker/runs/:runId/checkpoint`: the run leaves the worker until its waitpoints complete. */
export const checkpointRequestSchema = report.extend({ journal: journalSchema, reason: z.string().max(500).optional() });
export const checkpointResponseSchema = z.object({ checkpointId: z.string(), snapshotId: z.string() });

/** `POST /worker/runs/:runId/resume`: a worker restores a checkpointed run it was handed. */
export const resumeResponseSchema = z.object({ snapshotId: z.string(), attemptNumber: z.number().int() });

/** `POST /api/v1/waitpoints/tokens` */
export const createTokenRequestSchema = z.object({
  /** when the token completes by itself with a timeout error: a duration ("10m", ms) or an ISO date */
  timeout: momentSchema.optional(),
  idempotencyKey: z.string().min(1).max(512).optional(),
});
export type CreateTokenRequest = z.output<typeof createTokenRequestSchema>;

/** `POST /api/v1/waitpoints/tokens/:id/complete` */
export const completeTokenRequestSchema = z.object({ data: z.unknown().optional() });
