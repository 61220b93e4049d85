import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test, vi } from "vitest";
import { createJsonLinesLogger } from "../workerLogger.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

test("the lines of one turn of the event loop reach stdout in one write, in order", async () => {
  const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  const logger = createJsonLinesLogger({ base: { service: "test" } });
  for (let i = 0; i < 50; i++) logger.info("attempt:started", { i });
  expect(write).not.toHaveBeenCalled();

  await new Promise((resolve) => setImmediate(resolve));
  expect(write).toHaveBeenCalledTimes(1);
  const lines = String(write.mock.calls[0]![0]).trimEnd().split("\n").map((line) => JSON.parse(line) as { i: number; service: string });
  expect(lines.map((line) => line.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(lines[0]!.service).toBe("test");
});

test("lines still buffered when the process exits are written", () => {
  const loggerModule = fileURLToPath(new URL("../workerLogger.ts", import.meta.url));
  const script = `import { createJsonLinesLogger } from ${JSON.stringify(loggerModule)};
const logger = createJsonLinesLogger();
for (let i = 0; i < 200; i++) logger.info("line", { i });
process.exit(3);`;
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
  expect(child.status).toBe(3);
  const lines = child.stdout.trimEnd().split("\n");
  expect(lines).toHaveLength(200);
  expect((JSON.parse(lines[199]!) as { i: number }).i).toBe(199);
});
