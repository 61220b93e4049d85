import {
  batchTriggerRequestSchema,
  completeAttemptRequestSchema,
  completeAttemptsRequestSchema,
  dequeueRequestSchema,
  registerWorkerRequestSchema,
  snapshotReportSchema,
  startAttemptsRequestSchema,
  triggerRequestSchema,
  type AttemptResult,
} from "@runengine/core/schemas";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { z } from "zod";
import type { RunStatus } from "../runStatus.ts";
import { isFinalRunStatus } from "../runStatus.ts";

/**
 * A scripted engine for the SDK's tests: the HTTP protocol of apps/api served from memory on
 * 127.0.0.1, with the same wire format (requests are checked with the core schemas), snapshot
 * fencing, long-poll dequeue and error replies. Runs never retry here; tests drive the rest.
 */

type RouteName = "trigger" | "batch" | "retrieve" | "list" | "history" | "cancel" | "register" | "dequeue" | "start" | "heartbeat" | "complete" | "deregister";

export interface FakeSnapshot {
  id: string;
  executionStatus: string;
  runStatus: RunStatus;
  description: string;
  attemptNumber: number | null;
  previousSnapshotId: string | null;
  createdAt: string;
}

export interface FakeRun {
  id: string;
  taskId: string;
  payload: unknown;
  status: RunStatus;
  executionStatus: string;
  attemptCount: number;
  output: unknown;
  error: unknown;
  queue: string;
  tags: string[];
  metadata: unknown;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  snapshots: FakeSnapshot[];
  workerId: string | undefined;
  /** snapshots the current attempt may report on: its start snapshot and a later cancel request */
  attemptSnapshotIds: Set<string>;
  /** every result a worker sent, accepted or not */
  results: AttemptResult[];
  maxDurationSeconds: number | undefined;
  /** script: the run moves on right after it is dequeued, so the worker's start is stale */
  moveOnAfterDequeue: boolean;
}

export interface RecordedRequest {
  route: RouteName;
  method: string;
  path: string;
  body: unknown;
  authorization: string | undefined;
  at: number;
}

export interface DequeueRecord {
  workerId: string;
  maxRuns: number;
  /** runs handed to this worker and not yet finished or requeued when the poll arrived */
  inFlight: number;
  /** polls of this worker open at once, this one included */
  openPolls: number;
  handedOut: number;
}

type Injected = { status: number; body?: unknown } | "drop";

interface Waiter {
  workerId: string;
  maxRuns: number;
  deliver: (runs: FakeRun[]) => void;
}

export class FakeEngine {
  readonly apiKey = "test-api-key";
  readonly runs = new Map<string, FakeRun>();
  readonly requests: RecordedRequest[] = [];
  readonly dequeues: DequeueRecord[] = [];
  readonly workers = new Map<string, { body: z.output<typeof registerWorkerRequestSchema>; deregistered: boolean }>();
  private readonly pending: FakeRun[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly openPolls = new Map<string, number>();
  private readonly injected = new Map<RouteName, Injected[]>();
  private readonly idempotency = new Map<string, string>();
  private server: Server | undefined;
  private nextId = 1;
  url = "";
  /** refuses larger request bodies with 413 PAYLOAD_TOO_LARGE, as the api does past API_BODY_LIMIT_BYTES */
  maxBodyBytes = Number.POSITIVE_INFINITY;

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const waiter of this.waiters) waiter.deliver([]);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Script: the next `count` calls of `route` fail with `reply` (a status, or "drop" = connection reset). */
  failNext(route: RouteName, count: number, reply: Injected): void {
    this.injected.set(route, [...(this.injected.get(route) ?? []), ...Array.from({ length: count }, () => reply)]);
  }

  /** Creates a run as a trigger would, and queues it. */
  enqueue(taskId: string, payload: unknown, script: { maxDurationSeconds?: number; moveOnAfterDequeue?: boolean; tags?: string[] } = {}): FakeRun {
    const run: FakeRun = {
      id: `run_${this.nextId++}`,
      taskId,
      payload,
      status: "PENDING",
      executionStatus: "RUN_CREATED",
      attemptCount: 0,
      output: null,
      error: null,
      queue: `task/${taskId}`,
      tags: script.tags ?? [],
      metadata: {},
      createdAt: new Date().toISOString(),
      startedAt: null,
      completedAt: null,
      snapshots: [],
      workerId: undefined,
      attemptSnapshotIds: new Set(),
      results: [],
      maxDurationSeconds: script.maxDurationSeconds,
      moveOnAfterDequeue: script.moveOnAfterDequeue ?? false,
    };
    this.runs.set(run.id, run);
    this.snapshot(run, "QUEUED", "PENDING", "triggered");
    this.pending.push(run);
    this.serveWaiters();
    return run;
  }

  /** Script: a cancel request while the run executes (the next heartbeat answers `cancel`). */
  requestCancel(runId: string): void {
    const run = this.mustGet(runId);
    if (run.executionStatus === "EXECUTING") {
      run.attemptSnapshotIds.add(this.snapshot(run, "PENDING_CANCEL", run.status, "cancel requested").id);
    } else if (!isFinalRunStatus(run.status)) {
      this.pending.splice(this.pending.indexOf(run), 1);
      this.snapshot(run, "FINISHED", "CANCELED", "cancelled before execution");
    }
  }

  /** Script: the engine gave up on this attempt (e.g. heartbeat overdue) and requeued the run. */
  moveOn(runId: string): void {
    const run = this.mustGet(runId);
    run.attemptSnapshotIds.clear();
    run.workerId = undefined;
    this.snapshot(run, "QUEUED", "RETRYING_AFTER_FAILURE", "attempt given up by the engine");
  }

  /** Script: sets a run's user-facing status, as the engine's other roles would. */
  setStatus(runId: string, status: RunStatus): void {
    this.snapshot(this.mustGet(runId), isFinalRunStatus(status) ? "FINISHED" : "QUEUED", status, "set by test");
  }

  routeCalls(route: RouteName): RecordedRequest[] {
    return this.requests.filter((r) => r.route === route);
  }

  private mustGet(runId: string): FakeRun {
    const run = this.runs.get(runId);
    if (!run) throw new Error(`no run ${runId}`);
    return run;
  }

  private snapshot(run: FakeRun, executionStatus: string, runStatus: RunStatus, description: string): FakeSnapshot {
    const snapshot: FakeSnapshot = {
      id: `snap_${this.nextId++}`,
      executionStatus,
      runStatus,
      description,
      attemptNumber: run.attemptCount || null,
      previousSnapshotId: run.snapshots.at(-1)?.id ?? null,
      createdAt: new Date().toISOString(),
    };
    run.snapshots.push(snapshot);
    run.executionStatus = executionStatus;
    run.status = runStatus;
    if (isFinalRunStatus(runStatus)) run.completedAt = snapshot.createdAt;
    return snapshot;
  }

  private currentSnapshotId(run: FakeRun): string {
    return run.snapshots.at(-1)!.id;
  }

  private inFlight(workerId: string): number {
    return [...this.runs.values()].filter((r) => r.workerId === workerId && !isFinalRunStatus(r.status)).length;
  }

  private takePending(workerId: string, maxRuns: number): FakeRun[] {
    const taken = this.pending.splice(0, maxRuns);
    for (const run of taken) {
      run.workerId = workerId;
      this.snapshot(run, "PENDING_EXECUTING", "DEQUEUED", "dequeued");
      if (run.moveOnAfterDequeue) {
        run.workerId = undefined;
        this.snapshot(run, "QUEUED", "PENDING", "moved on after dequeue (script)");
      }
    }
    return taken;
  }

  private serveWaiters(): void {
    for (const waiter of this.waiters) {
      if (this.pending.length === 0) return;
      this.waiters.delete(waiter);
      waiter.deliver(this.takePending(waiter.workerId, waiter.maxRuns));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const text = await readBody(req);
    const match = matchRoute(req.method ?? "GET", url.pathname);
    if (!match) return reply(res, 404, { error: { code: "NOT_FOUND", message: `no route ${req.method} ${url.pathname}` } });
    const body: unknown = text ? JSON.parse(text) : undefined;
    this.requests.push({ route: match.route, method: req.method ?? "", path: url.pathname + url.search, body, authorization: req.headers.authorization, at: Date.now() });
    if (Buffer.byteLength(text) > this.maxBodyBytes) {
      return reply(res, 413, { error: { code: "PAYLOAD_TOO_LARGE", message: "Request body is larger than the configured limit" } });
    }

    const injected = this.injected.get(match.route)?.shift();
    if (injected === "drop") return void req.socket.destroy();
    if (injected) return reply(res, injected.status, injected.body ?? { error: { code: "INJECTED", message: `injected ${injected.status}` } });
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return reply(res, 401, { error: { code: "UNAUTHORIZED", message: "bad API key" } });

    const id = match.id ?? "";
    switch (match.route) {
      case "trigger":
        return this.parse(res, triggerRequestSchema, body, (request) => reply(res, 200, this.trigger(id, request)));
      case "batch":
        return this.parse(res, batchTriggerRequestSchema, body, (request) =>
          reply(res, 200, { batchId: `batch_${this.nextId++}`, runs: request.items.map((item) => ({ id: this.trigger(id, item).id })) }),
        );
      case "retrieve":
        return this.withRun(res, id, (run) => reply(res, 200, publicRun(run)));
      case "list":
        return reply(res, 200, this.list(url.searchParams));
      case "history":
        return this.withRun(res, id, (run) => reply(res, 200, { snapshots: run.snapshots }));
      case "cancel":
        return this.withRun(res, id, (run) => {
          this.requestCancel(run.id);
          reply(res, 200, { id: run.id, status: run.status });
        });
      case "register":
        return this.parse(res, registerWorkerRequestSchema, body, (request) => {
          const workerId = `worker_${this.nextId++}`;
          this.workers.set(workerId, { body: request, deregistered: false });
          reply(res, 200, { workerId, deploymentId: `deployment_${request.version}` });
        });
      case "dequeue":
        return this.parse(res, dequeueRequestSchema, body, (request) => this.dequeue(res, request));
      case "start":
        if (match.id === undefined) {
          return this.parse(res, startAttemptsRequestSchema, body, (request) =>
            reply(res, 200, { runs: this.eachRun(request.runs, (run, item) => this.startAttempt(run, item.snapshotId)) }),
          );
        }
        return this.parse(res, snapshotReportSchema, body, (request) => this.withRun(res, id, (run) => send(res, this.startAttempt(run, request.snapshotId))));
      case "heartbeat":
        return this.parse(res, snapshotReportSchema, body, (request) => this.withRun(res, id, (run) => this.heartbeat(res, run, request.snapshotId)));
      case "complete":
        if (match.id === undefined) {
          return this.parse(res, completeAttemptsRequestSchema, body, (request) =>
            reply(res, 202, { runs: this.eachRun(request.runs, (run, item) => this.complete(run, item.snapshotId, item.result)) }),
          );
        }
        return this.parse(res, completeAttemptRequestSchema, body, (request) =>
          this.withRun(res, id, (run) => send(res, this.complete(run, request.snapshotId, request.result))),
        );
      case "deregister": {
        const worker = this.workers.get((body as { workerId?: string } | undefined)?.workerId ?? "");
        if (!worker) return reply(res, 404, { error: { code: "NOT_FOUND", message: "unknown worker" } });
        worker.deregistered = true;
        return reply(res, 204);
      }
    }
  }

  private parse<S extends z.ZodType>(res: ServerResponse, schema: S, body: unknown, then: (value: z.output<S>) => void): void {
    const parsed = schema.safeParse(body);
    if (parsed.success) return then(parsed.data);
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join(".") || undefined;
    reply(res, 400, { error: { code: "VALIDATION", message: `${field ?? "body"}: ${issue?.message}`, ...(field ? { field } : {}) } });
  }

  private withRun(res: ServerResponse, id: string, then: (run: FakeRun) => void): void {
    const run = this.runs.get(id);
    if (!run) return reply(res, 404, { error: { code: "NOT_FOUND", message: `Run ${id} not found` } });
    then(run);
  }

  private trigger(taskId: string, request: z.output<typeof triggerRequestSchema>): { id: string; isCached: boolean } {
    const key = request.options?.idempotencyKey;
    const cached = key ? this.idempotency.get(`${taskId}:${key}`) : undefined;
    if (cached) return { id: cached, isCached: true };
    const run = this.enqueue(taskId, request.payload, { tags: request.options?.tags ?? [] });
    if (key) this.idempotency.set(`${taskId}:${key}`, run.id);
    return { id: run.id, isCached: false };
  }

  private list(query: URLSearchParams) {
    const limit = Number(query.get("limit") ?? 20);
    const matching = [...this.runs.values()].filter(
      (run) => (!query.get("status") || run.status === query.get("status")) && (!query.get("taskId") || run.taskId === query.get("taskId")),
    );
    const cursor = query.get("cursor");
    const from = cursor ? matching.findIndex((run) => run.id === cursor) + 1 : 0;
    const page = matching.slice(from, from + limit);
    const more = from + limit < matching.length;
    return { data: page.map(publicRun), nextCursor: more ? (page.at(-1)?.id ?? null) : null };
  }

  private dequeue(res: ServerResponse, request: z.output<typeof dequeueRequestSchema>): void {
    const open = (this.openPolls.get(request.workerId) ?? 0) + 1;
    this.openPolls.set(request.workerId, open);
    const record: DequeueRecord = { workerId: request.workerId, maxRuns: request.maxRuns, inFlight: this.inFlight(request.workerId), openPolls: open, handedOut: 0 };
    this.dequeues.push(record);
    let answered = false;
    const waiter: Waiter = {
      workerId: request.workerId,
      maxRuns: request.maxRuns,
      deliver: (runs) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        this.openPolls.set(request.workerId, (this.openPolls.get(request.workerId) ?? 1) - 1);
        record.handedOut = runs.length;
        const version = this.workers.get(request.workerId)?.body.version ?? "unknown";
        reply(res, 200, { runs: runs.map((run) => dequeuedRun(run, version)) });
      },
    };
    const timer = setTimeout(() => waiter.deliver([]), request.waitMs);
    // A worker that stops polling closes the request: it must not count as open any more.
    res.once("close", () => waiter.deliver([]));
    if (this.pending.length > 0) return waiter.deliver(this.takePending(request.workerId, request.maxRuns));
    this.waiters.add(waiter);
  }

  private startAttempt(run: FakeRun, snapshotId: string): Outcome {
    if (snapshotId !== this.currentSnapshotId(run) || run.executionStatus !== "PENDING_EXECUTING") {
      return { status: 409, body: { error: { code: "STALE_SNAPSHOT", message: "the run moved on" } } };
    }
    run.attemptCount += 1;
    run.startedAt ??= new Date().toISOString();
    const snapshot = this.snapshot(run, "EXECUTING", "EXECUTING", "attempt started");
    run.attemptSnapshotIds = new Set([snapshot.id]);
    return { status: 200, body: { snapshotId: snapshot.id, attemptNumber: run.attemptCount } };
  }

  private heartbeat(res: ServerResponse, run: FakeRun, snapshotId: string): void {
    const current = this.currentSnapshotId(run);
    if (!run.attemptSnapshotIds.has(snapshotId)) return reply(res, 200, { action: "stale", snapshotId: current });
    reply(res, 200, { action: run.executionStatus === "PENDING_CANCEL" ? "cancel" : "continue", snapshotId: current });
  }

  private complete(run: FakeRun, snapshotId: string, result: AttemptResult): Outcome {
    run.results.push(result);
    if (!run.attemptSnapshotIds.has(snapshotId) || isFinalRunStatus(run.status)) {
      return { status: 409, body: { error: { code: "STALE_SNAPSHOT", message: "the attempt is no longer current" } } };
    }
    run.attemptSnapshotIds.clear();
    if (result.ok) {
      run.output = result.output ?? null;
      this.snapshot(run, "FINISHED", "COMPLETED_SUCCESSFULLY", "attempt succeeded");
    } else if (result.reason === "WORKER_SHUTDOWN") {
      run.workerId = undefined;
      this.snapshot(run, "QUEUED", "PENDING", "worker shut down: requeued");
      this.pending.push(run);
    } else {
      run.error = result.error;
      const status = ({ CANCELLED: "CANCELED", MAX_DURATION_EXCEEDED: "TIMED_OUT", TASK_ERROR: "COMPLETED_WITH_ERRORS", CRASHED: "CRASHED" } as const)[result.reason];
      this.snapshot(run, "FINISHED", status, `attempt failed: ${result.reason}`);
    }
    return { status: 202 };
  }

  /** The runs of a batched start or complete, each answered as its single-run route would be. */
  private eachRun<I extends { runId: string }>(items: readonly I[], handle: (run: FakeRun, item: I) => Outcome): unknown[] {
    return items.map((item) => {
      const run = this.runs.get(item.runId);
      const outcome: Outcome = run ? handle(run, item) : { status: 404, body: { error: { code: "NOT_FOUND", message: `Run ${item.runId} not found` } } };
      if (outcome.status < 300) return { runId: item.runId, ok: true, ...(outcome.body as object | undefined) };
      return { runId: item.runId, ok: false, status: outcome.status, error: (outcome.body as { error: unknown }).error };
    });
  }
}

function matchRoute(method: string, path: string): { route: RouteName; id?: string } | undefined {
  const routes: Array<[string, RegExp, RouteName]> = [
    ["POST", /^\/api\/v1\/tasks\/([^/]+)\/trigger$/, "trigger"],
    ["POST", /^\/api\/v1\/tasks\/([^/]+)\/batch$/, "batch"],
    ["GET", /^\/api\/v1\/runs$/, "list"],
    ["GET", /^\/api\/v1\/runs\/([^/]+)$/, "retrieve"],
    ["GET", /^\/api\/v1\/runs\/([^/]+)\/history$/, "history"],
    ["POST", /^\/api\/v1\/runs\/([^/]+)\/cancel$/, "cancel"],
    ["POST", /^\/api\/v1\/worker\/register$/, "register"],
    ["POST", /^\/api\/v1\/worker\/dequeue$/, "dequeue"],
    ["POST", /^\/api\/v1\/worker\/runs\/start$/, "start"],
    ["POST", /^\/api\/v1\/worker\/runs\/([^/]+)\/start$/, "start"],
    ["POST", /^\/api\/v1\/worker\/runs\/([^/]+)\/heartbeat$/, "heartbeat"],
    ["POST", /^\/api\/v1\/worker\/runs\/complete$/, "complete"],
    ["POST", /^\/api\/v1\/worker\/runs\/([^/]+)\/complete$/, "complete"],
    ["POST", /^\/api\/v1\/worker\/deregister$/, "deregister"],
  ];
  for (const [routeMethod, pattern, route] of routes) {
    const found = method === routeMethod ? pattern.exec(path) : null;
    if (found) return found[1] === undefined ? { route } : { route, id: decodeURIComponent(found[1]) };
  }
  return undefined;
}

function publicRun(run: FakeRun) {
  const { snapshots: _snapshots, attemptSnapshotIds: _ids, results: _results, workerId: _worker, moveOnAfterDequeue: _script, executionStatus: _exec, maxDurationSeconds: _max, ...visible } = run;
  return visible;
}

/** The fake engine has one development environment, and one deployment per registered version. */
function dequeuedRun(run: FakeRun, version: string) {
  return {
    runId: run.id,
    snapshotId: run.moveOnAfterDequeue ? run.snapshots.at(-2)!.id : run.snapshots.at(-1)!.id,
    taskId: run.taskId,
    payload: run.payload,
    queue: run.queue,
    attemptNumber: run.attemptCount + 1,
    tags: run.tags,
    metadata: run.metadata,
    createdAt: run.createdAt,
    ...(run.maxDurationSeconds !== undefined ? { maxDurationSeconds: run.maxDurationSeconds } : {}),
    environment: { id: "env_fake", name: "fake", type: "DEVELOPMENT" },
    deployment: { id: `deployment_${version}`, version },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (text += chunk));
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}

/** What a route answers, before it is sent. */
interface Outcome {
  status: number;
  body?: unknown;
}

function send(res: ServerResponse, outcome: Outcome): void {
  reply(res, outcome.status, outcome.body);
}

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
