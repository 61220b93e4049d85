import { defineConfig } from "vitest/config";
import { sharedVitestConfig } from "../../vitest.shared.ts";

// The cluster run (pnpm test:cluster) writes its own report, so it never overwrites the main one.
const reportName = process.env.REDIS_CLUSTER_NODES ? "run-queue-cluster" : "run-queue";

export default defineConfig(sharedVitestConfig(import.meta.url, reportName));
