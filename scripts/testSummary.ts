/**
 * Adds up the JSON reports every vitest run wrote to .test-results/ and prints one closing line,
 * "N passed, N failed, N skipped". Exits non-zero when a test failed, none ran, or the test
 * runner's own exit code (first argument) says something broke that no report shows.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{ status: string; fullName: string; failureMessages: string[] }>;
  }>;
}

/** The first lines of a failure, enough to tell which assertion broke without the whole log. */
function firstLines(text: string, count = 6): string {
  return text.split("\n").slice(0, count).map((line) => `      ${line}`).join("\n");
}

const resultsDir = fileURLToPath(new URL("../.test-results", import.meta.url));
const totals = { passed: 0, failed: 0, skipped: 0 };
const reports = existsSync(resultsDir) ? readdirSync(resultsDir) : [];
for (const file of reports.filter((f) => f.endsWith(".json")).sort()) {
  const report = JSON.parse(readFileSync(join(resultsDir, file), "utf8")) as VitestJsonReport;
  // A file that failed to load counts as a failure even though none of its tests ran.
  const unloadable = report.testResults.filter((file) => file.status === "failed" && file.assertionResults.length === 0).length;
  const failed = report.numFailedTests + unloadable;
  console.log(`${file.replace(/\.json$/, "").padEnd(24)} ${report.numPassedTests} passed, ${failed} failed`);
  for (const testFile of report.testResults) {
    if (testFile.status === "failed" && testFile.assertionResults.length === 0) {
      console.log(`  FAILED TO LOAD ${testFile.name}\n${firstLines(testFile.message ?? "")}`);
    }
    for (const test of testFile.assertionResults.filter((t) => t.status === "failed")) {
      console.log(`  FAILED ${testFile.name} > ${test.fullName}\n${firstLines(test.failureMessages.join("\n"))}`);
    }
  }
  totals.passed += report.numPassedTests;
  totals.failed += failed;
  totals.skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
const runnerExitCode = Number(process.argv[2] ?? 0);
process.exit(totals.failed > 0 || totals.passed === 0 || runnerExitCode !== 0 ? 1 : 0);
