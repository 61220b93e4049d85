import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { createTestDatabase, type TestDatabase } from "@runengine/testing";
import type { ExecutionStatus, TaskRunStatus } from "@runengine/database";
import { createLogger } from "../../logging/logger.ts";
import type { RunLocker, RunLockerOptions } from "../../locking/runLocker.ts";
import { lockerFixture } from "../../locking/tests/lockerFixture.ts";
import { SnapshotSystem } from "../snapshotSystem.ts";
import type { CreateRunData } from "../types.ts";

/**
 * A database and a Redis key prefix of this test file's own, an environment to put runs in, and
 * snapshot systems that each have their own RunLocker and Redis connection (as processes would).
 */
export function snapshotFixture(label: string) {
  const lockers = lockerFixture(label);
  const logger = createLogger({ service: "test", level: "silent" });
  const context = {} as { db: TestDatabase; organizationId: string; environmentId: string };

  beforeAll(async () => {
    context.db = await createTestDatabase(label);
    const organization = await context.db.prisma.organization.create({ data: { slug: `org-${randomBytes(3).toString("hex")}`, name: "Org" } });
    const environment = await context.db.prisma.runtimeEnvironment.create({ data: { organizationId: organization.id, name: "dev" } });
    context.organizationId = organization.id;
    context.environmentId = environment.id;
  });
  afterAll(async () => {
    await context.db.drop();
  });

  return {
    ...lockers,
    get prisma() {
      return context.db.prisma;
    },
    /** a snapshot system and the locker it uses, for tests that lock around mutate() */
    newSystemAndLocker(lockOptions: Omit<RunLockerOptions, "redis" | "keyPrefix"> = {}): { system: SnapshotSystem; locker: RunLocker } {
      const locker = lockers.newLocker(lockOptions);
      return { system: new SnapshotSystem({ prisma: context.db.prisma, locker, logger }), locker };
    },
    newSystem(lockOptions: Omit<RunLockerOptions, "redis" | "keyPrefix"> = {}): SnapshotSystem {
      return this.newSystemAndLocker(lockOptions).system;
    },
    runData(overrides: Partial<CreateRunData> = {}): CreateRunData {
      return {
        organizationId: context.organizationId,
        environmentId: context.environmentId,
        taskIdentifier: "my-task",
        queue: "task/my-task",
        ...overrides,
      };
    },
    /** a run created QUEUED (the usual start), returned with its first snapshot */
    async queuedRun(system: SnapshotSystem, overrides: Partial<CreateRunData> = {}) {
      return system.createRun(this.runData(overrides), { executionStatus: "QUEUED", runStatus: "PENDING", description: "triggered" });
    },
  };
}

/** The change that moves a run one step along QUEUED ⇄ PENDING_EXECUTING. */
export function nextInCycle(current: ExecutionStatus): { executionStatus: ExecutionStatus; runStatus: TaskRunStatus } {
  return current === "QUEUED" ? { executionStatus: "PENDING_EXECUTING", runStatus: "DEQUEUED" } : { executionStatus: "QUEUED", runStatus: "PENDING" };
}
