import type { SqlPool } from "@runengine/database";
import { CallBatcher } from "./callBatcher.ts";

/** The reader of one pool: `call(key)` resolves with what was found for the key, or undefined. */
export type KeyedReader<V> = CallBatcher<string, V | undefined>;

/**
 * A read by key that runs on every step of every run: reads made while earlier ones are running go
 * out together as one statement (see CallBatcher), so a busy process reads many runs per round
 * trip. `read` gets distinct keys and answers what it found; a key it leaves out reads as
 * undefined. Define it once (module scope); the function it returns gives each pool its one
 * reader, shared by every caller in the process.
 */
export function keyedReader<V>(read: (pool: SqlPool, keys: string[]) => Promise<Map<string, V>>): (pool: SqlPool) => KeyedReader<V> {
  const readers = new WeakMap<SqlPool, KeyedReader<V>>();
  return (pool) => {
    let reader = readers.get(pool);
    if (reader === undefined) {
      reader = new CallBatcher<string, V | undefined>(
        async (calls) => {
          const found = await read(pool, [...new Set(calls.map((call) => call.input))]);
          for (const call of calls) call.resolve(found.get(call.input));
        },
        { maxInFlight: 2, maxBatch: 200 },
      );
      readers.set(pool, reader);
    }
    return reader;
  };
}
