import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "@runengine/testing";
import { authenticateApiKey, createEnvironment, hashApiKey } from "./apiKeys.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("api_keys");
});
afterAll(async () => {
  await db.drop();
});

describe("environment API keys", () => {
  test("a created key authenticates its own environment and is stored only as a hash", async () => {
    const { environment, apiKey } = await createEnvironment(db.prisma, { name: "dev", concurrencyLimit: 5 });
    expect(await authenticateApiKey(db.prisma, apiKey)).toEqual(environment);
    expect(environment).toMatchObject({ name: "dev", type: "DEVELOPMENT", concurrencyLimit: 5 });
    const stored = await db.prisma.apiKey.findMany({ where: { environmentId: environment.id } });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.keyHash).toBe(hashApiKey(apiKey));
    expect(JSON.stringify(stored)).not.toContain(apiKey);
  });

  test("two environments get different keys; each key opens only its own", async () => {
    const a = await createEnvironment(db.prisma, { name: "a", organizationSlug: "acme" });
    const b = await createEnvironment(db.prisma, { name: "b", organizationSlug: "acme" });
    expect(a.apiKey).not.toBe(b.apiKey);
    expect((await authenticateApiKey(db.prisma, a.apiKey))?.id).toBe(a.environment.id);
    expect((await authenticateApiKey(db.prisma, b.apiKey))?.id).toBe(b.environment.id);
    expect(a.environment.organizationId).toBe(b.environment.organizationId);
  });

  test("unknown, malformed and revoked keys are refused", async () => {
    const { environment, apiKey } = await createEnvironment(db.prisma, { name: "revoked" });
    expect(await authenticateApiKey(db.prisma, "re_unknown")).toBeNull();
    expect(await authenticateApiKey(db.prisma, "not-a-key")).toBeNull();
    await db.prisma.apiKey.updateMany({ where: { environmentId: environment.id }, data: { revokedAt: new Date() } });
    expect(await authenticateApiKey(db.prisma, apiKey)).toBeNull();
  });
});
