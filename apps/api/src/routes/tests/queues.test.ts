import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fastRetry, startApi, type ApiFixture } from "../../tests/apiFixture.ts";

let f: ApiFixture;
beforeAll(async () => {
  f = await startApi("api_queues");
  await f.handle.engine.registerWorker(f.environment, {
    version: "v2",
    name: "declares-a-limited-queue",
    concurrency: 1,
    tasks: [{ id: "mail", queue: { name: "task/mail", concurrencyLimit: 4 }, retry: fastRetry }],
  });
});
afterAll(async () => {
  await f.close();
});

const trigger = (taskId: string) => f.request("POST", `/api/v1/tasks/${taskId}/trigger`, { body: { payload: {} } });
const queueOf = async (name: string) => ((await f.request("GET", "/api/v1/queues")).json().data as { name: string }[]).find((queue) => queue.name === name);
/** queue names hold a slash: the path carries it encoded */
const queuePath = (name: string, action: string) => `/api/v1/queues/${encodeURIComponent(name)}/${action}`;

describe("queues over HTTP", () => {
  test("the list shows each queue of the environment with what it holds against which limit", async () => {
    await trigger("mail");
    await trigger("mail");
    const response = await f.request("GET", "/api/v1/queues");
    expect(response.statusCode).toBe(200);
    const names = (response.json().data as { name: string }[]).map((queue) => queue.name);
    expect(names).toEqual(["hello", "task/mail"]);
    expect(await queueOf("task/mail")).toMatchObject({ queued: 2, inFlight: 0, limit: 4, declaredLimit: 4, limitOverridden: false, paused: false, concurrencyKeys: [] });
  });

  test("pause and resume: a paused queue keeps its runs queued and hands none out", async () => {
    const paused = await f.request("POST", queuePath("task/mail", "pause"));
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ name: "task/mail", paused: true });
    expect(await f.handle.engine.resources.runQueue.dequeue({ consumerId: "probe", maxCount: 10, envIds: [f.environment.id] })).toEqual([]);
    expect(await queueOf("task/mail")).toMatchObject({ queued: 2, paused: true });

    const resumed = await f.request("POST", queuePath("task/mail", "resume"));
    expect(resumed.json()).toMatchObject({ name: "task/mail", paused: false });
    const handedOut = await f.handle.engine.resources.runQueue.dequeue({ consumerId: "probe", maxCount: 10, envIds: [f.environment.id] });
    expect(handedOut).toHaveLength(2);
    for (const { runId } of handedOut) await f.handle.engine.resources.runQueue.nack(runId);
  });

  test("a concurrency limit set over HTTP holds over the declared one; null lifts it", async () => {
    const limited = await f.request("PUT", queuePath("task/mail", "concurrency"), { body: { limit: 1 } });
    expect(limited.statusCode).toBe(200);
    expect(limited.json()).toMatchObject({ name: "task/mail", limit: 1, declaredLimit: 4, limitOverridden: true });
    const handedOut = await f.handle.engine.resources.runQueue.dequeue({ consumerId: "probe", maxCount: 10, envIds: [f.environment.id] });
    expect(handedOut).toHaveLength(1);
    await f.handle.engine.resources.runQueue.nack(handedOut[0]!.runId);

    const lifted = await f.request("PUT", queuePath("task/mail", "concurrency"), { body: { limit: null } });
    expect(lifted.json()).toMatchObject({ limit: null, limitOverridden: true });
  });

  test("bad input is a 400 naming the field; an unknown queue and another environment's queue are 404", async () => {
    for (const body of [{ limit: -1 }, { limit: 1.5 }, { limit: "3" }, {}]) {
      const response = await f.request("PUT", queuePath("task/mail", "concurrency"), { body });
      expect({ body, status: response.statusCode, field: response.json().error.field }).toEqual({ body, status: 400, field: "limit" });
    }
    expect((await f.request("POST", queuePath("no-such-queue", "pause"))).statusCode).toBe(404);
    expect((await f.request("PUT", queuePath("no-such-queue", "concurrency"), { body: { limit: 1 } })).statusCode).toBe(404);

    const otherKey = { key: f.other.apiKey };
    expect((await f.request("POST", queuePath("task/mail", "pause"), otherKey)).statusCode).toBe(404);
    const otherList = (await f.request("GET", "/api/v1/queues", otherKey)).json().data as { name: string }[];
    expect(otherList.map((queue) => queue.name)).toEqual(["hello"]);
    expect(await queueOf("task/mail")).toMatchObject({ paused: false });
    expect((await f.request("GET", "/api/v1/queues", { key: null })).statusCode).toBe(401);
  });
});
