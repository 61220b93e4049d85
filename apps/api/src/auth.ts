import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { PrismaClient } from "@runengine/database";
import { createCachedAuthenticator, type AuthenticatedEnvironment } from "@runengine/core";
import { sendError } from "./errors.ts";

declare module "fastify" {
  interface FastifyRequest {
    environment: AuthenticatedEnvironment;
  }
}

function credentials(request: FastifyRequest, scheme: "Bearer" | "Basic"): string | undefined {
  const header = request.headers.authorization;
  if (!header?.startsWith(`${scheme} `)) return undefined;
  return header.slice(scheme.length + 1).trim() || undefined;
}

/**
 * onRequest hook: the environment whose API key is the Bearer token, or 401. Known keys are
 * remembered for 10 s, so a revoked key may work that much longer.
 */
export function requireEnvironment(prisma: PrismaClient) {
  const authenticate = createCachedAuthenticator(prisma);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const token = credentials(request, "Bearer");
    if (!token) return sendError(reply, 401, "UNAUTHORIZED", "Missing Authorization: Bearer <environment API key>");
    const environment = await authenticate(token);
    if (!environment) return sendError(reply, 401, "UNAUTHORIZED", "Unknown or revoked API key");
    request.environment = environment;
  };
}

export interface RequireAdminOptions {
  /** answer 401 with a Basic challenge, so a browser opening Bull Board asks for the token */
  browserPrompt?: boolean;
}

/**
 * onRequest hook for operators' routes: the ADMIN_TOKEN as a Bearer token, as the password of
 * Basic credentials (what a browser sends after its login prompt), or in the `runengine_admin`
 * cookie. With no ADMIN_TOKEN configured every admin route refuses; an environment API key is
 * never an admin credential.
 */
export function requireAdmin(adminToken: string | undefined, { browserPrompt = false }: RequireAdminOptions = {}) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const token = credentials(request, "Bearer") ?? basicPassword(request) ?? adminTokenFromCookie(request);
    if (!isAdminToken(adminToken, token)) {
      if (browserPrompt) reply.header("www-authenticate", 'Basic realm="Run Engine admin", charset="UTF-8"');
      return sendError(reply, 401, "UNAUTHORIZED", "Admin credentials required");
    }
  };
}

/** The configured ADMIN_TOKEN, compared in constant time; nothing matches when none is configured. */
export function isAdminToken(adminToken: string | undefined, token: string | undefined): boolean {
  if (!adminToken || !token) return false;
  const expected = Buffer.from(adminToken);
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Basic credentials are `user:password` in base64; the user name is ignored. */
function basicPassword(request: FastifyRequest): string | undefined {
  const encoded = credentials(request, "Basic");
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(colon + 1) || undefined : undefined;
}

/** The cookie the admin login form sets (httpOnly), so a browser need not send Basic credentials. */
export const adminCookieName = "runengine_admin";

function adminTokenFromCookie(request: FastifyRequest): string | undefined {
  const cookie = request.headers.cookie;
  if (!cookie) return undefined;
  for (const part of cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name !== adminCookieName) continue;
    try {
      return decodeURIComponent(value.join("="));
    } catch {
      // a malformed escape is a wrong credential, not a server error
      return undefined;
    }
  }
  return undefined;
}
