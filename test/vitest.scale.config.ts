import { defineConfig } from "vitest/config";
import { sharedVitestConfig } from "../vitest.shared.ts";

const shared = sharedVitestConfig(import.meta.url, "scale");

/**
 * Load tests with a time limit from an issue's acceptance list. They measure what this 2-core
 * machine does with nothing else running, so the root `pnpm test` runs them alone, after every
 * other suite has finished.
 */
export default defineConfig({
  test: {
    ...shared.test,
    include: ["e2e/**/*.scale.test.ts"],
    testTimeout: 700_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
