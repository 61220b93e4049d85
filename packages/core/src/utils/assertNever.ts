/**
 * The default branch of an exhaustive switch: it only compiles when every case is handled, so a
 * new union member breaks the build where it must be handled instead of falling through at runtime.
 */
export function assertNever(value: never, what = "value"): never {
  throw new TypeError(`Unhandled ${what}: ${String(value)}`);
}
