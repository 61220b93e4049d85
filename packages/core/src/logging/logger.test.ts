import { Writable } from "node:stream";
import { expect, test } from "vitest";
import { runEngineEvents } from "./events.ts";
import { createLogger, logEvent, runLogger } from "./logger.ts";

function captured() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

test("every line of a run logger carries the run id (and snapshot and attempt when known)", () => {
  const { lines, destination } = captured();
  const logger = createLogger({ service: "finalizer", level: "debug", destination });
  const log = runLogger(logger, { runId: "run_1", snapshotId: "snap_1", attempt: 2 });
  log.info("attempt failed");
  log.child({ step: "retry" }).debug({ delayMs: 500 }, "retry scheduled");
  runLogger(logger, { runId: "run_2" }).warn("no snapshot yet");
  logger.info("not about a run");

  expect(lines).toMatchObject([
    { service: "finalizer", runId: "run_1", snapshotId: "snap_1", attempt: 2, msg: "attempt failed" },
    { service: "finalizer", runId: "run_1", snapshotId: "snap_1", attempt: 2, step: "retry", delayMs: 500 },
    { service: "finalizer", runId: "run_2", msg: "no snapshot yet" },
    { service: "finalizer", msg: "not about a run" },
  ]);
  expect(lines[2]).not.toHaveProperty("snapshotId");
  expect(lines[3]).not.toHaveProperty("runId");
});

test("lines below the level are not written", () => {
  const { lines, destination } = captured();
  const logger = createLogger({ service: "api", level: "warn", destination });
  runLogger(logger, { runId: "run_1" }).info("quiet");
  runLogger(logger, { runId: "run_1" }).error("loud");
  expect(lines.map((line) => line.msg)).toEqual(["loud"]);
});

test("logEvent writes the event name with its fields", () => {
  const { lines, destination } = captured();
  const logger = createLogger({ service: "dispatcher", level: "info", destination });
  logEvent(runLogger(logger, { runId: "run_9" }), "info", "lock:timedOut", { resource: "run:run_9", waitMs: 5000, attempts: 51 });
  expect(lines).toMatchObject([{ event: "lock:timedOut", runId: "run_9", resource: "run:run_9", waitMs: 5000, attempts: 51, msg: "lock:timedOut" }]);
});

test("event names are scope:verb", () => {
  expect(runEngineEvents.length).toBeGreaterThan(0);
  for (const event of runEngineEvents) expect(event).toMatch(/^[a-z]+:[a-z][a-zA-Z]*$/);
});
