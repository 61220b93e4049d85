import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ValidationError } from "../../errors/runEngineError.ts";
import { triggerOptionsSchema, type TriggerOptionsInput } from "../../schemas/trigger.ts";
import { TriggerSystem } from "../triggerSystem.ts";
import { startEngine, type EngineFixture } from "./engineFixture.ts";

let f: EngineFixture;
beforeAll(async () => {
  f = await startEngine("debounce");
  await f.registerWorker();
  f.startScheduler();
});
afterAll(async () => {
  await f.close();
});

const engine = () => f.handle.engine;
const runOf = (id: string) => f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
const historyOf = (id: string) => engine().reads.history(f.environment.id, id);
const trigger = (payload: unknown, options: TriggerOptionsInput) => f.trigger(options, payload);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("debounce", () => {
  test("50 concurrent triggers with one key make one DELAYED run; every caller gets its id", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => trigger({ n: i }, { debounce: { key: "burst", delay: "5s" }, tags: [`t${i}`] })),
    );
    const ids = new Set(results.map((r) => r.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.isCached)).toHaveLength(1);
    const [id] = [...ids] as [string];
    const run = await runOf(id);
    expect(run.status).toBe("DELAYED");
    expect(await f.db.prisma.taskRun.count({ where: { environmentId: f.environment.id, taskIdentifier: "hello", createdAt: { gte: run.createdAt } } })).toBe(1);
    // triggers that arrive while the key is busy join together: fewer snapshots than triggers
    const history = await historyOf(id);
    console.log(`50 concurrent debounced triggers: ${history.length} snapshots`);
    expect(history.length).toBeLessThan(50);
    expect(history[0]!.description).toMatch(/^Debounced \(key "burst"\): delayed until /);
    expect(history.slice(1).every((s) => /^Debounced( \d+ triggers)?: due time moved to /.test(s.description))).toBe(true);
    // trailing (the default): the payload and tags are those of the trigger that joined last
    const lastIndex = (run.payload as { n: number }).n;
    expect(run.tags).toEqual([`t${lastIndex}`]);
    await engine().cancel(f.environment.id, id);
  });

  test("two engines (as two api processes) triggering one key concurrently still make one run", async () => {
    const otherProcess = new TriggerSystem(engine().resources, engine().workers);
    const options = triggerOptionsSchema.parse({ debounce: { key: "two-processes", delay: "5s" } });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? engine() : otherProcess).trigger({ environment: f.environment, taskId: "hello", payload: i, options }),
      ),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => !r.isCached)).toHaveLength(1);
    await engine().cancel(f.environment.id, results[0]!.id);
  });

  test("trailing: each trigger pushes the due time to delay after itself, and the last payload wins", async () => {
    const first = await trigger({ v: "a" }, { debounce: { key: "trail", delay: 1_000 }, metadata: { from: "a" } });
    const firstDue = (await runOf(first.id)).delayUntil!.getTime();
    await sleep(300);
    const second = await trigger({ v: "b" }, { debounce: { key: "trail", delay: 1_000 } });
    await sleep(300);
    const third = await trigger({ v: "c" }, { debounce: { key: "trail", delay: 1_000 }, metadata: { from: "c" } });
    expect(second).toEqual({ id: first.id, isCached: true });
    expect(third.id).toBe(first.id);
    const run = await runOf(first.id);
    expect(run.delayUntil!.getTime()).toBeGreaterThanOrEqual(firstDue + 550);
    expect(run).toMatchObject({ payload: { v: "c" }, metadata: { from: "c" } });
    const moved = (await historyOf(first.id)).at(-1)!;
    expect(moved.description).toBe(`Debounced: due time moved to ${run.delayUntil!.toISOString()}; payload of this trigger`);

    await expect.poll(async () => (await runOf(first.id)).status, { timeout: 5_000, interval: 20 }).toBe("PENDING");
    expect((await runOf(first.id)).queuedAt!.getTime() - run.delayUntil!.getTime()).toBeLessThan(1_000);
    // the window closed with the run queued: the same key opens a new one
    const next = await trigger({ v: "d" }, { debounce: { key: "trail", delay: 1_000 } });
    expect(next.id).not.toBe(first.id);
    expect(next.isCached).toBe(false);
    await engine().cancel(f.environment.id, next.id);
  });

  test("leading: the first trigger's payload stays while later ones push the due time", async () => {
    const first = await trigger({ v: "first" }, { debounce: { key: "lead", delay: "10s", mode: "leading" } });
    const firstDue = (await runOf(first.id)).delayUntil!.getTime();
    await sleep(50);
    const second = await trigger({ v: "second" }, { debounce: { key: "lead", delay: "10s", mode: "leading" } });
    expect(second.id).toBe(first.id);
    const run = await runOf(first.id);
    expect(run.payload).toEqual({ v: "first" });
    expect(run.delayUntil!.getTime()).toBeGreaterThan(firstDue);
    expect((await historyOf(first.id)).at(-1)!.description).toBe(`Debounced: due time moved to ${run.delayUntil!.toISOString()}`);
    await engine().cancel(f.environment.id, first.id);
  });

  test("maxDelay: triggers keep joining, but the due time never passes first trigger + maxDelay", async () => {
    // The last join lands a second before the cap, so a slow trigger on a loaded machine still joins.
    const options = { debounce: { key: "capped", delay: 2_000, maxDelay: 3_000 } };
    const first = await trigger({ i: 0 }, options);
    const openedAt = (await runOf(first.id)).createdAt.getTime();
    const window = (await runOf(first.id)).debounce as { firstTriggeredAt: string };
    const cap = Date.parse(window.firstTriggeredAt) + 3_000;
    const joined: string[] = [];
    while (Date.now() < openedAt + 2_000) {
      await sleep(250);
      joined.push((await trigger({ i: joined.length + 1 }, options)).id);
      expect((await runOf(first.id)).delayUntil!.getTime()).toBeLessThanOrEqual(cap);
    }
    expect(new Set(joined)).toEqual(new Set([first.id]));
    expect((await runOf(first.id)).delayUntil!.getTime()).toBe(cap);
    await expect.poll(async () => (await runOf(first.id)).status, { timeout: 5_000, interval: 20 }).toBe("PENDING");
    expect((await runOf(first.id)).queuedAt!.getTime() - cap).toBeLessThan(1_000);
    await engine().cancel(f.environment.id, first.id);
  });

  test("keys are scoped to the environment and the task", async () => {
    const { environment: other } = await engine().createEnvironment({ name: "other" });
    await engine().registerWorker(other, { version: "v1", name: "w", concurrency: 1, tasks: [{ id: "hello", queue: { name: "hello" }, retry: { maxAttempts: 1, factor: 2, minTimeoutInMs: 100, maxTimeoutInMs: 100, randomize: false } }] });
    const options = triggerOptionsSchema.parse({ debounce: { key: "shared", delay: "10s" } });
    const here = await trigger(1, { debounce: { key: "shared", delay: "10s" } });
    const there = await engine().trigger({ environment: other, taskId: "hello", payload: 1, options });
    expect(there.id).not.toBe(here.id);
    await engine().cancel(f.environment.id, here.id);
    await engine().cancel(other.id, there.id);
  });

  test("delay and debounce together are refused", async () => {
    await expect(trigger(1, { delay: "1s", debounce: { key: "x", delay: "1s" } })).rejects.toBeInstanceOf(ValidationError);
  });
});
