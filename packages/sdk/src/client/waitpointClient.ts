import { z } from "zod";
import type { JsonTransport } from "../http/jsonTransport.ts";

/** A waitpoint token as the api shows it. */
export interface WaitpointToken {
  id: string;
  status: "PENDING" | "COMPLETED";
  /** the data it was completed with, or the timeout error */
  output: unknown;
  /** true when it timed out */
  isError: boolean;
  idempotencyKey: string | null;
  timeoutAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
}

export interface CreateTokenInput {
  /** completes by itself with a timeout error after this long ("10m", ms) or at this ISO date */
  timeout?: string | number;
  /** creating again with the same key returns the first token */
  idempotencyKey?: string;
}

export interface WaitpointClient {
  createToken(input?: CreateTokenInput): Promise<WaitpointToken & { isCached: boolean }>;
  /** Completes the token with `data`; the run waiting on it resumes with `{ ok: true, output: data }`. */
  completeToken(token: string | { id: string }, data?: unknown): Promise<WaitpointToken>;
  retrieveToken(token: string | { id: string }): Promise<WaitpointToken>;
}

const date = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

export const tokenSchema = z.looseObject({
  id: z.string(),
  status: z.enum(["PENDING", "COMPLETED"]),
  output: z.unknown().transform((o) => o ?? null),
  isError: z.boolean(),
  idempotencyKey: z.string().nullable(),
  timeoutAt: date.nullable(),
  completedAt: date.nullable(),
  createdAt: date,
});
const createdTokenSchema = tokenSchema.extend({ isCached: z.boolean().default(false) });

/** Waitpoint tokens over the api (`client.waitpoints`, and `wait.createToken` inside a task). */
export function waitpointClient(request: JsonTransport): WaitpointClient {
  const tokenPath = (token: string | { id: string }) => `/api/v1/waitpoints/tokens/${encodeURIComponent(typeof token === "string" ? token : token.id)}`;
  return {
    createToken: (input = {}) =>
      request({ method: "POST", path: "/api/v1/waitpoints/tokens", body: input, schema: createdTokenSchema, retry: input.idempotencyKey !== undefined }),
    // Completing twice is harmless (the second changes nothing), so the call is retried.
    completeToken: (token, data) => request({ method: "POST", path: `${tokenPath(token)}/complete`, body: { data }, schema: tokenSchema, retry: true }),
    retrieveToken: (token) => request({ method: "GET", path: tokenPath(token), schema: tokenSchema, retry: true }),
  };
}
