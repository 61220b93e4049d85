import { afterAll, describe, expect, it } from "vitest";
import { TestClock, testSetup } from "./redisForTests.ts";

const setup = testSetup("priority");
afterAll(() => setup.teardown());

describe("priority", () => {
  it("a higher-priority run goes before older normal runs of its queue", async () => {
    const clock = new TestClock(100_000_000);
    const q = setup.queue({ keyPrefix: `${setup.prefix}a:`, clock: clock.read });
    for (let i = 0; i < 5; i++) {
      await q.enqueue({ runId: `normal${i}`, orgId: "o", envId: "e", queue: "jobs" });
      clock.advance(1_000);
    }
    await q.enqueue({ runId: "urgent", orgId: "o", envId: "e", queue: "jobs", priority: 60 });
    const order = (await q.dequeue({ consumerId: "c", maxCount: 6 })).map((m) => m.runId);
    expect(order).toEqual(["urgent", "normal0", "normal1", "normal2", "normal3", "normal4"]);
  });

  it("is bounded: a normal run that has waited longer than the head start goes first", async () => {
    const clock = new TestClock(200_000_000);
    const q = setup.queue({ keyPrefix: `${setup.prefix}b:`, clock: clock.read });
    await q.enqueue({ runId: "patient", orgId: "o", envId: "e", queue: "jobs" });
    clock.advance(61_000);
    await q.enqueue({ runId: "urgent", orgId: "o", envId: "e", queue: "jobs", priority: 60 });
    expect((await q.dequeue({ consumerId: "c", maxCount: 2 })).map((m) => m.runId)).toEqual(["patient", "urgent"]);
  });

  it("normal runs still progress under a steady stream of priority runs", async () => {
    const clock = new TestClock(300_000_000);
    const q = setup.queue({ keyPrefix: `${setup.prefix}c:`, clock: clock.read });
    await q.enqueueMany(Array.from({ length: 3 }, (_, i) => ({ runId: `normal${i}`, orgId: "o", envId: "e", queue: "jobs" })));
    const served: string[] = [];
    // Every second two runs with a 5 s head start arrive and one run is dequeued: the priority runs
    // alone would fill every slot, yet each normal run gets out once it is 5 s old.
    for (let second = 0; second < 30; second++) {
      await q.enqueueMany([0, 1].map((i) => ({ runId: `p${second}-${i}`, orgId: "o", envId: "e", queue: "jobs", priority: 5 })));
      served.push(...(await q.dequeue({ consumerId: "c", maxCount: 1 })).map((m) => m.runId));
      clock.advance(1_000);
    }
    for (let i = 0; i < 3; i++) {
      const at = served.indexOf(`normal${i}`);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(at).toBeLessThan(15);
    }
    expect(served[0]).toMatch(/^p0-/);
  });
});
