import { defineConfig } from "vitest/config";
import { sharedVitestConfig } from "../vitest.shared.ts";

const shared = sharedVitestConfig(import.meta.url, "chaos");

/**
 * Chaos tests start the real processes and break something on purpose (SIGKILL, SIGSTOP, Redis
 * losing its keys, Postgres restarting). One file at a time: each loads this 2-core machine fully.
 */
export default defineConfig({
  test: {
    ...shared.test,
    include: ["chaos/**/*.chaos.test.ts"],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
