import { defineConfig } from "vitest/config";
import { sharedVitestConfig } from "../vitest.shared.ts";

const shared = sharedVitestConfig(import.meta.url, "e2e");

/**
 * End-to-end tests start the real processes; each file starts its own engine on its own database
 * and Redis prefix, so files may run side by side, but this 2-core machine runs them one at a time
 * to keep timing assertions honest.
 */
export default defineConfig({
  test: {
    ...shared.test,
    include: ["e2e/**/*.e2e.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
