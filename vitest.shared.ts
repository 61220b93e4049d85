import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ViteUserConfig } from "vitest/config";

const repoRoot = dirname(fileURLToPath(import.meta.url));

/**
 * Settings every package's vitest.config.ts starts from. Besides the console output, each run
 * writes a JSON report to .test-results/, from which scripts/testSummary.ts prints one
 * "N passed, N failed" line for the whole monorepo.
 */
export function sharedVitestConfig(configUrl: string, reportName = basename(dirname(fileURLToPath(configUrl)))): ViteUserConfig {
  return {
    test: {
      testTimeout: 30_000,
      hookTimeout: 60_000,
      reporters: ["default", ["json", { outputFile: join(repoRoot, ".test-results", `${reportName}.json`) }]],
    },
  };
}
