import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isTask, type AnyTask } from "../task.ts";

/** Imports a tasks file and returns every Task it exports (each once, even if exported twice). */
export async function loadTasks(file: string, cwd: string): Promise<AnyTask[]> {
  const module = (await import(pathToFileURL(resolve(cwd, file)).href)) as Record<string, unknown>;
  const tasks = [...new Set(Object.values(module).filter(isTask))];
  if (tasks.length === 0) throw new Error(`${file} exports no task: export the values returned by task({ ... })`);
  return tasks;
}
