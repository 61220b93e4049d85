import { afterAll, describe, expect, it } from "vitest";
import { leftoverState, testSetup } from "./redisForTests.ts";

const setup = testSetup("ackMany");
afterAll(() => setup.teardown());

const run = (runId: string, envId: string, queue: string, concurrencyKey?: string) => ({ runId, orgId: "org", envId, queue, concurrencyKey });

describe("ackMany (ackMany-6.lua)", () => {
  it("acks runs in every state across envs, keeps counters exact and leaves no state behind", async () => {
    const q = setup.queue({ maxNackAttempts: 0 });
    const { redis } = setup;
    await q.setConcurrencyLimit({ envId: "ea", queue: "keyed", limit: 2 });
    await q.enqueueMany([
      ...Array.from({ length: 6 }, (_, i) => run(`a${i}`, "ea", "keyed", `k${i % 2}`)),
      ...Array.from({ length: 4 }, (_, i) => run(`b${i}`, "ea", "plain")),
      ...Array.from({ length: 5 }, (_, i) => run(`c${i}`, "eb", "jobs")),
    ]);
    const taken = await q.dequeue({ consumerId: "c", maxCount: 9 });
    expect(taken).toHaveLength(9);
    // One of each other state: released, dead-lettered (maxNackAttempts 0), still queued.
    const inFlight = taken.map((m) => m.runId);
    const released = inFlight.find((id) => id.startsWith("b")) as string;
    const dead = inFlight.find((id) => id.startsWith("c")) as string;
    await q.release(released);
    expect(await q.nack(dead)).toEqual({ deadLettered: true, attempt: 1 });
    const acked = inFlight.filter((id) => id !== released && id !== dead);

    const ids = [...acked, released, dead, "nobody", acked[0] as string];
    const result = await q.ackMany(ids);
    expect(result).toEqual([...acked.map(() => true), true, true, false, false]);
    for (const id of [...acked, released, dead]) {
      expect(await redis.exists(q.keys.run(id.startsWith("c") ? "eb" : "ea", id))).toBe(0);
      expect(await redis.exists(q.keys.locator(id))).toBe(0);
    }
    // Exactly the runs never dequeued are left, queued, and no slot is held anywhere.
    const ea = await q.stats({ envId: "ea" });
    const eb = await q.stats({ envId: "eb" });
    expect(ea.inFlight + eb.inFlight).toBe(0);
    expect(ea.queued + eb.queued).toBe(15 - 9);
    expect(await q.stats({ envId: "ea", queue: "keyed", concurrencyKey: "k0" })).toMatchObject({ inFlight: 0 });
    expect(await redis.scard(q.keys.queue("ea", "keyed", "inflight"))).toBe(0);
    expect(await redis.zcard(q.keys.envKeys("eb").dead)).toBe(0);

    const rest = await q.dequeue({ consumerId: "c", maxCount: 100 });
    expect(rest).toHaveLength(6);
    expect(await q.ackMany(rest.map((m) => m.runId))).toEqual(rest.map(() => true));
    expect(await q.ackMany([])).toEqual([]);
    expect(await leftoverState(redis, setup.prefix)).toEqual({});
  });

  it("frees slots so that a lane at its limit runs again, and never beyond the limit", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.setConcurrencyLimit({ envId: "ec", queue: "jobs", limit: 2 });
    await q.enqueueMany(Array.from({ length: 7 }, (_, i) => run(`d${i}`, "ec", "jobs", "k")));
    const first = await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["ec"] });
    expect(first.map((m) => m.runId)).toEqual(["d0", "d1"]);
    expect(await redis.smembers(q.keys.queue("ec", "jobs", "blocked"))).toEqual(["k"]);
    expect(await q.ackMany(first.map((m) => m.runId))).toEqual([true, true]);
    expect(await redis.smembers(q.keys.queue("ec", "jobs", "blocked"))).toEqual([]);
    const second = await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["ec"] });
    expect(second.map((m) => m.runId)).toEqual(["d2", "d3"]);
    // One of two acked: exactly one more slot.
    await q.ackMany(["d2"]);
    expect((await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["ec"] })).map((m) => m.runId)).toEqual(["d4"]);
    expect(await q.stats({ envId: "ec", queue: "jobs", concurrencyKey: "k" })).toEqual({ queued: 2, inFlight: 2, limit: 2 });
  });

  it("brings an env at its env limit back into the shard index", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.setConcurrencyLimit({ envId: "ed", limit: 2 });
    await q.enqueueMany(["e1", "e2", "e3"].map((runId) => run(runId, "ed", "jobs")));
    await q.dequeue({ consumerId: "c", maxCount: 5, envIds: ["ed"] });
    const shard = q.keys.shardKeys(q.keys.shardOf("ed"));
    expect(await redis.zscore(shard.envs, "ed")).toBeNull();
    await q.ackMany(["e1"]);
    expect(await redis.zscore(shard.envs, "ed")).not.toBeNull();
    expect((await q.dequeue({ consumerId: "c", maxCount: 5, envIds: ["ed"] })).map((m) => m.runId)).toEqual(["e3"]);
  });

  it("finds runs through the locator without a cache, and despite a wrong env hint", async () => {
    const q = setup.queue();
    await q.enqueueMany([run("f1", "ee", "jobs"), run("f2", "ef", "jobs"), run("f3", "ef", "jobs")]);
    await q.dequeue({ consumerId: "c", maxCount: 5, envIds: ["ee", "ef"] });
    expect(await setup.queue().ackMany(["f1", "f2"])).toEqual([true, true]);
    expect(await setup.queue().ackMany(["f3", "f1"], { envId: "ee" })).toEqual([true, false]);
    for (const id of ["f1", "f2", "f3"]) expect(await setup.redis.exists(q.keys.locator(id))).toBe(0);
    await expect(q.ackMany([""])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});

describe("envId hint (ack, nack, release, extend, remove)", () => {
  it("operates in the hinted env without the locator, and falls back to it when the hint is wrong", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.enqueueMany(["g1", "g2", "g3", "g4"].map((runId) => run(runId, "eg", "jobs")));
    await q.dequeue({ consumerId: "c", maxCount: 4, envIds: ["eg"] });
    // A fresh instance has no cache; with the locators gone only the hint can find the runs.
    for (const id of ["g1", "g2", "g3"]) await redis.del(q.keys.locator(id));
    const fresh = setup.queue();
    expect(await fresh.ack("g1")).toBe(false);
    expect(await fresh.ack("g1", { envId: "eg" })).toBe(true);
    expect(await fresh.extend("g2", { envId: "eg", visibilityTimeoutMs: 5_000 })).toBeGreaterThan(Date.now());
    await fresh.release("g2", { envId: "eg" });
    expect(await fresh.nack("g3", { envId: "eg" })).toEqual({ deadLettered: false, attempt: 1 });
    // A wrong hint costs a locator read, nothing else.
    expect(await setup.queue().ack("g4", { envId: "other" })).toBe(true);
    expect(await fresh.remove("g2", { envId: "eg" })).toBe(true);
    expect(await q.stats({ envId: "eg" })).toEqual({ queued: 1, inFlight: 0, limit: null });
    await expect(fresh.ack("g3", { envId: "" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
