import { createHash, randomBytes } from "node:crypto";
import { Prisma, type EnvironmentType, type PrismaClient } from "@runengine/database";
import { ConflictError } from "../errors/runEngineError.ts";

const keyPrefix = "re_";

/** Only this digest is stored; a database leak does not leak usable keys. */
export function hashApiKey(apiKey: string): string {
  return createHash("sha256").update(apiKey).digest("hex");
}

function newApiKey(): string {
  return `${keyPrefix}${randomBytes(24).toString("base64url")}`;
}

export interface AuthenticatedEnvironment {
  id: string;
  organizationId: string;
  name: string;
  type: EnvironmentType;
  concurrencyLimit: number | null;
}

export interface CreateEnvironmentInput {
  name: string;
  type?: EnvironmentType;
  concurrencyLimit?: number | null;
  /** the organization's slug; created when it does not exist */
  organizationSlug?: string;
}

/**
 * Creates an environment with one API key, returned in clear this once. ConflictError (field
 * `name`) when the organization already has an environment of that name.
 */
export async function createEnvironment(
  prisma: PrismaClient,
  input: CreateEnvironmentInput,
): Promise<{ environment: AuthenticatedEnvironment; apiKey: string }> {
  const slug = input.organizationSlug ?? "default";
  const apiKey = newApiKey();
  try {
    const environment = await prisma.$transaction(async (tx) => {
      const organization = await tx.organization.upsert({ where: { slug }, create: { slug, name: slug }, update: {} });
      const created = await tx.runtimeEnvironment.create({
        data: {
          organizationId: organization.id,
          name: input.name,
          type: input.type ?? "DEVELOPMENT",
          concurrencyLimit: input.concurrencyLimit ?? null,
        },
      });
      await tx.apiKey.create({ data: { environmentId: created.id, keyHash: hashApiKey(apiKey), keyPrefix: apiKey.slice(0, 8) } });
      return created;
    });
    return { environment: toAuthenticated(environment), apiKey };
  } catch (error) {
    // A unique violation may also be two first environments racing to create the organization:
    // only an existing environment of that name is the caller's conflict.
    const taken = await prisma.runtimeEnvironment.findFirst({ where: { name: input.name, organization: { slug } }, select: { id: true } });
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002" && taken) {
      throw new ConflictError("name", `an environment named "${input.name}" already exists`, { cause: error });
    }
    throw error;
  }
}

/** The environment a Bearer key belongs to, or null for an unknown or revoked key. */
export async function authenticateApiKey(prisma: PrismaClient, apiKey: string): Promise<AuthenticatedEnvironment | null> {
  if (!apiKey.startsWith(keyPrefix)) return null;
  const key = await prisma.apiKey.findUnique({ where: { keyHash: hashApiKey(apiKey) }, include: { environment: true } });
  if (!key || key.revokedAt) return null;
  return toAuthenticated(key.environment);
}

function toAuthenticated(environment: AuthenticatedEnvironment): AuthenticatedEnvironment {
  const { id, organizationId, name, type, concurrencyLimit } = environment;
  return { id, organizationId, name, type, concurrencyLimit };
}
