import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix } from "@runengine/testing";
import type { DequeuedRun } from "../schemas/workerProtocol.ts";
import { DispatchClient, dispatchRelayKeys, inlineReplyLimitBytes, publishWorkAvailable, type DispatchRequest } from "./dispatchRelay.ts";
import { DispatchServer } from "./dispatchServer.ts";

const prefix = uniqueRedisPrefix("dispatch-relay");
const keys = dispatchRelayKeys(prefix);
const logger = pino({ level: "silent" });
const connections: Redis[] = [];
const stops: Array<() => Promise<void>> = [];

function connect(): Redis {
  const redis = new Redis(testRedisUrl);
  connections.push(redis);
  return redis;
}

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});
afterAll(async () => {
  await deleteKeysWithPrefix(connections[0]!, prefix);
  for (const redis of connections) redis.disconnect();
});

function run(id: string): DequeuedRun {
  return {
    runId: id,
    snapshotId: `s-${id}`,
    taskId: "t",
    payload: null,
    queue: "q",
    attemptNumber: 1,
    tags: [],
    metadata: null,
    createdAt: new Date(),
    environment: { id: "e", name: "e", type: "DEVELOPMENT" },
    deployment: { id: "d", version: "1" },
  };
}

/** Stands in for the run queue: a list of ready runs, taken at most maxRuns at a time. */
function readyRuns() {
  const ready: DequeuedRun[] = [];
  const requests: DispatchRequest[] = [];
  return {
    ready,
    requests,
    dequeue: async (request: DispatchRequest) => {
      requests.push(request);
      return ready.splice(0, request.maxRuns);
    },
  };
}

async function startServer(dequeue: (request: DispatchRequest) => Promise<DequeuedRun[]>, retryIntervalMs = 60_000, concurrency?: number) {
  const server = new DispatchServer({ blocking: connect(), subscriber: connect(), redis: connect(), keys, logger, dequeue, retryIntervalMs, concurrency });
  await server.start();
  stops.push(() => server.stop());
  return server;
}

function startClient(onUndelivered?: (runs: DequeuedRun[]) => Promise<void>) {
  const client = new DispatchClient(connect(), connect(), keys, logger, onUndelivered);
  stops.push(() => client.close());
  return client;
}

const request = { workerId: "w1", environmentId: "env", deploymentId: "dep", maxRuns: 2 };

describe("dispatch relay", () => {
  test("requests are served side by side, at most `concurrency` at once", async () => {
    let serving = 0;
    let mostAtOnce = 0;
    const gates: (() => void)[] = [];
    await startServer(
      async (request) => {
        serving += 1;
        mostAtOnce = Math.max(mostAtOnce, serving);
        await new Promise<void>((open) => gates.push(open));
        serving -= 1;
        return [run(`for-${request.workerId}`)];
      },
      60_000,
      2,
    );
    const client = startClient();
    const answers = Promise.all(["w1", "w2", "w3"].map((workerId) => client.requestRuns({ ...request, workerId }, 5_000)));

    await expect.poll(() => gates.length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gates.length).toBe(2);
    gates.splice(0).forEach((open) => open());
    await expect.poll(() => gates.length).toBe(1);
    gates.splice(0).forEach((open) => open());

    expect((await answers).map((runs) => runs.map((r) => r.runId))).toEqual([["for-w1"], ["for-w2"], ["for-w3"]]);
    expect(mostAtOnce).toBe(2);
  });

  test("announcements of one turn of the event loop go out as one message; a later one is sent again", async () => {
    const listener = connect();
    const received: string[] = [];
    listener.on("message", (_channel: string, message: string) => received.push(message));
    await listener.subscribe(keys.workAvailableChannel);
    const publisher = connect();

    await Promise.all(Array.from({ length: 10 }, () => publishWorkAvailable(publisher, keys)));
    await expect.poll(() => received.length).toBe(1);
    await publishWorkAvailable(publisher, keys);
    await expect.poll(() => received.length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(2);
    await listener.unsubscribe();
  });

  test("a worker's request gets ready runs, never more than its free slots", async () => {
    const queue = readyRuns();
    queue.ready.push(run("a"), run("b"), run("c"));
    await startServer(queue.dequeue);
    const runs = await startClient().requestRuns(request, 5_000);
    expect(runs.map((r) => r.runId)).toEqual(["a", "b"]);
    expect(queue.requests[0]).toMatchObject(request);
  });

  test("a waiting request is answered as soon as work is announced, not at the next retry", async () => {
    const queue = readyRuns();
    const server = await startServer(queue.dequeue, 60_000);
    const publisher = connect();
    const pending = startClient().requestRuns(request, 10_000);
    await expect.poll(() => server.parkedCount(), { timeout: 5_000 }).toBe(1);
    queue.ready.push(run("late"));
    const announcedAt = Date.now();
    await publishWorkAvailable(publisher, keys);
    const runs = await pending;
    expect(runs.map((r) => r.runId)).toEqual(["late"]);
    expect(Date.now() - announcedAt).toBeLessThan(500);
  });

  test("with no work the request ends empty at its deadline", async () => {
    const queue = readyRuns();
    await startServer(queue.dequeue, 50);
    const startedAt = Date.now();
    const runs = await startClient().requestRuns(request, 400);
    expect(runs).toEqual([]);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(400);
    expect(Date.now() - startedAt).toBeLessThan(1_500);
  });

  test("two dispatchers share the requests and serve each once", async () => {
    const queue = readyRuns();
    for (let i = 0; i < 40; i++) queue.ready.push(run(`r${i}`));
    await startServer(queue.dequeue);
    await startServer(queue.dequeue);
    const client = startClient();
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.requestRuns(request, 5_000)));
    const ids = answers.flat().map((r) => r.runId);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
    expect(queue.requests).toHaveLength(20);
  });

  test("stopping a dispatcher answers its parked requests with no runs", async () => {
    const queue = readyRuns();
    const server = await startServer(queue.dequeue);
    const pending = startClient().requestRuns(request, 30_000);
    await expect.poll(() => server.parkedCount(), { timeout: 5_000 }).toBe(1);
    const startedAt = Date.now();
    await server.stop();
    expect(await pending).toEqual([]);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });

  test("a withdrawn request (its worker went away) ends at once, and work announced later does not go to it", async () => {
    const queue = readyRuns();
    const server = await startServer(queue.dequeue);
    const gone = new AbortController();
    const pending = startClient().requestRuns(request, 30_000, gone.signal);
    await expect.poll(() => server.parkedCount(), { timeout: 5_000 }).toBe(1);
    gone.abort();
    expect(await pending).toEqual([]);
    await expect.poll(() => server.parkedCount(), { timeout: 2_000 }).toBe(0);

    queue.ready.push(run("for-someone-else"));
    await publishWorkAvailable(connect(), keys);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(queue.ready.map((r) => r.runId)).toEqual(["for-someone-else"]);
    expect(queue.requests).toHaveLength(1);
  });

  test("a request withdrawn while it waits in the list is dropped unserved when a dispatcher pops it", async () => {
    const queue = readyRuns();
    queue.ready.push(run("kept"));
    const gone = new AbortController();
    let serving = false;
    // the only dispatcher is busy with another request, so the withdrawn one stays in the list
    const server = await startServer(
      async (request) => {
        if (request.workerId === "busy") {
          serving = true;
          await new Promise((resolve) => setTimeout(resolve, 300));
          return [];
        }
        return queue.dequeue(request);
      },
      60_000,
      1,
    );
    const client = startClient();
    void client.requestRuns({ ...request, workerId: "busy" }, 1_000);
    await expect.poll(() => serving).toBe(true);
    const pending = client.requestRuns(request, 30_000, gone.signal);
    gone.abort();
    expect(await pending).toEqual([]);

    await expect.poll(() => server.parkedCount(), { timeout: 2_000 }).toBe(1);
    await expect.poll(() => connect().llen(keys.requests), { timeout: 2_000 }).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(queue.ready.map((r) => r.runId)).toEqual(["kept"]);
    expect(queue.requests.filter((r) => r.workerId !== "busy")).toHaveLength(0);
  });

  const large = (id: string): DequeuedRun => ({ ...run(id), payload: { blob: "z".repeat(inlineReplyLimitBytes) } });

  // a large reply goes through a stored key (see the next test), and is handed back all the same
  test.each([
    ["small", run],
    ["large", large],
  ])("runs that reach a request after its withdrawal are handed back, not lost (%s reply)", async (_size, makeRun) => {
    const handedBack: string[] = [];
    const gone = new AbortController();
    // A dispatcher that is mid-dequeue when the withdrawal happens: it replies with runs anyway.
    await startServer(async () => {
      gone.abort();
      await new Promise((resolve) => setTimeout(resolve, 100));
      return [makeRun("raced")];
    });
    const client = startClient(async (runs) => {
      handedBack.push(...runs.map((r) => r.runId));
    });
    expect(await client.requestRuns(request, 10_000, gone.signal)).toEqual([]);
    await expect.poll(() => handedBack, { timeout: 5_000 }).toEqual(["raced"]);
    expect(await connect().keys(`${prefix}dispatch:reply-body:*`)).toEqual([]);
  });

  test("a reply too large for pub/sub (runs with large payloads) reaches its request whole, through a stored key that is gone once fetched", async () => {
    const listener = connect();
    const published: number[] = [];
    listener.on("pmessage", (_pattern: string, _channel: string, message: string) => published.push(message.length));
    await listener.psubscribe(keys.replyChannel("*"));
    const queue = readyRuns();
    queue.ready.push(large("big-1"), large("big-2"));
    await startServer(queue.dequeue);
    const runs = await startClient().requestRuns(request, 5_000);
    expect(runs.map((r) => r.runId)).toEqual(["big-1", "big-2"]);
    expect(runs[0]!.payload).toEqual({ blob: "z".repeat(inlineReplyLimitBytes) });
    expect(await connect().keys(`${prefix}dispatch:reply-body:*`)).toEqual([]);
    // pub/sub carried only the pointer
    expect(published).toHaveLength(1);
    expect(published[0]).toBeLessThan(1_000);
    await listener.punsubscribe();
  });
});
