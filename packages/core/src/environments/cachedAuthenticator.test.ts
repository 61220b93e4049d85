import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "@runengine/testing";
import { createEnvironment } from "./apiKeys.ts";
import { createCachedAuthenticator } from "./cachedAuthenticator.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("cached_auth");
});
afterAll(async () => {
  await db.drop();
});

describe("cached API key authentication", () => {
  test("a known key is remembered for the TTL, then checked again (a revocation takes effect)", async () => {
    const { environment, apiKey } = await createEnvironment(db.prisma, { name: "cached" });
    const authenticate = createCachedAuthenticator(db.prisma, { ttlMs: 300 });
    expect(await authenticate(apiKey)).toEqual(environment);
    await db.prisma.apiKey.updateMany({ where: { environmentId: environment.id }, data: { revokedAt: new Date() } });
    expect(await authenticate(apiKey)).toEqual(environment);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await authenticate(apiKey)).toBeNull();
  });

  test("an unknown key is never remembered, and the cache holds at most maxEntries keys", async () => {
    const authenticate = createCachedAuthenticator(db.prisma, { maxEntries: 1 });
    expect(await authenticate("re_unknown")).toBeNull();
    const first = await createEnvironment(db.prisma, { name: "first" });
    const second = await createEnvironment(db.prisma, { name: "second" });
    expect((await authenticate(first.apiKey))?.id).toBe(first.environment.id);
    expect((await authenticate(second.apiKey))?.id).toBe(second.environment.id);
    // first was pushed out: a revocation of first is seen at once
    await db.prisma.apiKey.updateMany({ where: { environmentId: first.environment.id }, data: { revokedAt: new Date() } });
    expect(await authenticate(first.apiKey)).toBeNull();
  });
});
