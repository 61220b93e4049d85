import { z } from "zod";
import { durationSchema, momentSchema } from "./duration.ts";

export const identifierSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.\-/]+$/, "letters, digits and _ . - / only");

export const debounceSchema = z.object({
  key: z.string().min(1).max(512),
  /** how long after the last trigger the run starts */
  delay: durationSchema,
  /** leading: the first payload runs; trailing: the last payload wins */
  mode: z.enum(["leading", "trailing"]).default("trailing"),
  /** the window never moves past this long after the first trigger */
  maxDelay: durationSchema.optional(),
});

export const triggerOptionsSchema = z.object({
  queue: identifierSchema.optional(),
  concurrencyKey: z.string().min(1).max(256).optional(),
  delay: momentSchema.optional(),
  ttl: durationSchema.optional(),
  idempotencyKey: z.string().min(1).max(512).optional(),
  idempotencyKeyTTL: durationSchema.optional(),
  /** seconds of head start inside its queue (at most one day), so normal runs still progress */
  priority: z.number().int().min(0).max(86_400).optional(),
  maxAttempts: z.number().int().min(1).max(250).optional(),
  tags: z.array(z.string().min(1).max(128)).max(10).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  debounce: debounceSchema.optional(),
});

/** `POST /runs/:id/reschedule`: the new due time of a DELAYED run, a duration from now or an ISO date. */
export const rescheduleRequestSchema = z.object({ delay: momentSchema });

export const triggerRequestSchema = z.object({
  /** absent for a task that takes no input (JSON has no undefined) */
  payload: z.unknown().optional(),
  options: triggerOptionsSchema.optional(),
});

export const batchTriggerRequestSchema = z.object({
  items: z.array(triggerRequestSchema).min(1).max(1_000),
});

export type TriggerOptions = z.output<typeof triggerOptionsSchema>;
export type TriggerOptionsInput = z.input<typeof triggerOptionsSchema>;
export type TriggerRequest = z.output<typeof triggerRequestSchema>;
export type RescheduleRequestInput = z.input<typeof rescheduleRequestSchema>;
export type BatchTriggerRequest = z.output<typeof batchTriggerRequestSchema>;
