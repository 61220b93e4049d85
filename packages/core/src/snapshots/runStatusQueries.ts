import type { Prisma, PrismaClient, TaskRunStatus } from "@runengine/database";
import { isFinalRunStatus } from "../state-machine/statuses.ts";

/*
 * No index of TaskRun holds `status` (a step that changed an indexed column could not be a HOT
 * update); the generated column `finalStatus` (the status once final, NULL while live) and the
 * partial indexes on it serve the queries by status instead. See prisma/schema-extras.sql.
 */

/**
 * Runs in one of `statuses`, said so that the indexes serve it: live statuses through the live
 * runs' createdAt index (`finalStatus` NULL), final ones through `finalStatus`.
 */
export function runStatusWhere(statuses: readonly TaskRunStatus[]): Prisma.TaskRunWhereInput {
  const live = statuses.filter((status) => !isFinalRunStatus(status));
  const final = statuses.filter(isFinalRunStatus);
  const liveWhere: Prisma.TaskRunWhereInput = { finalStatus: null, status: { in: live } };
  const finalWhere: Prisma.TaskRunWhereInput = { finalStatus: { in: final } };
  if (final.length === 0) return liveWhere;
  if (live.length === 0) return finalWhere;
  return { OR: [liveWhere, finalWhere] };
}

/**
 * How many runs matching `where` each environment has in each status: live runs counted through
 * the live runs' index (only they are read), final runs through `finalStatus`'s.
 */
export async function runCountsByStatus(
  prisma: PrismaClient,
  where: Prisma.TaskRunWhereInput = {},
): Promise<{ environmentId: string; status: TaskRunStatus; count: number }[]> {
  const [live, final] = await Promise.all([
    prisma.taskRun.groupBy({ by: ["environmentId", "status"], where: { AND: [where, { finalStatus: null }] }, _count: { _all: true } }),
    prisma.taskRun.groupBy({ by: ["environmentId", "finalStatus"], where: { AND: [where, { finalStatus: { not: null } }] }, _count: { _all: true } }),
  ]);
  return [
    ...live.map((group) => ({ environmentId: group.environmentId, status: group.status, count: group._count._all })),
    ...final.flatMap((group) => (group.finalStatus === null ? [] : [{ environmentId: group.environmentId, status: group.finalStatus, count: group._count._all }])),
  ];
}
