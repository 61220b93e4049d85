import type { SqlPool } from "@runengine/database";
import { CallBatcher } from "./callBatcher.ts";

const readersOfPools = new WeakMap<SqlPool, Map<string, CallBatcher<string, unknown>>>();

/**
 * A read by key that runs on every step of every run: reads made while earlier ones are running go
 * out together as one statement (see CallBatcher), so a busy process reads many runs per round
 * trip. `read` gets distinct keys and answers what it found; a key it leaves out reads as
 * undefined. One reader per pool and name, shared by every caller in the process.
 */
export function keyedReader<V>(pool: SqlPool, name: string, read: (keys: string[]) => Promise<Map<string, V>>): CallBatcher<string, V | undefined> {
  let readers = readersOfPools.get(pool);
  if (readers === undefined) {
    readers = new Map();
    readersOfPools.set(pool, readers);
  }
  let reader = readers.get(name) as CallBatcher<string, V | undefined> | undefined;
  if (reader === undefined) {
    reader = new CallBatcher<string, V | undefined>(
      async (calls) => {
        const found = await read([...new Set(calls.map((call) => call.input))]);
        for (const call of calls) call.resolve(found.get(call.input));
      },
      { maxInFlight: 2, maxBatch: 200 },
    );
    readers.set(name, reader as CallBatcher<string, unknown>);
  }
  return reader;
}
