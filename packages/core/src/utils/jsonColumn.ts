import { Prisma } from "@runengine/database";

/** A value for a nullable Json column: undefined is stored as JSON null (Prisma needs it spelled out). */
export function jsonColumn(value: unknown): Prisma.InputJsonValue | typeof Prisma.JsonNull {
  return value === undefined ? Prisma.JsonNull : (value as Prisma.InputJsonValue);
}
