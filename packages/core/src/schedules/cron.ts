import { CronExpressionParser } from "cron-parser";
import { ValidationError } from "../errors/runEngineError.ts";

/**
 * Cron expressions as schedules accept them: 5 fields (minute hour day-of-month month day-of-week)
 * or 6 with seconds first, so "* * * * * *" is every second. Macros such as "@daily" and shorter
 * forms that cron-parser would complete silently are refused: a typo must not become a schedule.
 */
function cronFieldCountProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/).filter((field) => field !== "");
  if (fields.length === 5 || fields.length === 6) return undefined;
  return `expected 5 fields (minute hour day month weekday) or 6 (with seconds first), got ${fields.length}`;
}

/** Why the expression is not a cron schedule, or undefined when it is one. */
export function cronProblem(expression: string): string | undefined {
  const fieldProblem = cronFieldCountProblem(expression);
  if (fieldProblem) return fieldProblem;
  try {
    // Computing a tick also refuses expressions that parse but never match (a 31st of April).
    CronExpressionParser.parse(expression, { tz: "UTC" }).next();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Is this an IANA time zone name the runtime knows ("Europe/Paris", "UTC")? */
export function isTimeZone(timezone: string): boolean {
  if (timezone.trim() === "") return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The first tick of `cron` in `timezone` strictly after `after`. Wall-clock times that a DST change
 * skips fire once at the shifted instant; times it repeats fire once (cron-parser's rules).
 * ValidationError (field `cron` or `timezone`) for input that is not a schedule.
 */
export function nextTick(cron: string, timezone: string, after: Date): Date {
  const problem = cronProblem(cron);
  if (problem) throw new ValidationError("cron", problem);
  if (!isTimeZone(timezone)) throw new ValidationError("timezone", `"${timezone}" is not an IANA time zone`);
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: after }).next().toDate();
}

