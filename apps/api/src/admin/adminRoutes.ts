import { readFile } from "node:fs/promises";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { runFilterSchema, type EngineHandle } from "@runengine/core";
import { adminCookieName, isAdminToken, requireAdmin } from "../auth.ts";
import { sendError } from "../errors.ts";
import { bulkActionPage, bulkActionProgress, bulkActionsPage } from "./bulkActionsPage.ts";
import { acceptFormBodies } from "./formBody.ts";
import { adminPath } from "./layout.ts";
import { loginPage } from "./loginPage.ts";
import { queuesPage } from "./queuesPage.ts";
import { runPage } from "./runPage.ts";
import { runsPage } from "./runsPage.ts";

const assetsDir = new URL("./assets/", import.meta.url);
const assets = {
  "admin.css": "text/css; charset=utf-8",
  "admin.js": "text/javascript; charset=utf-8",
} as const;

const idParams = z.object({ id: z.string().min(1).max(128) });
const runsQuerySchema = runFilterSchema.extend({ cursor: z.preprocess((v) => (v === "" ? undefined : v), z.string().max(512).optional()) });
const loginSchema = z.object({ token: z.string().default(""), next: z.string().default(`${adminPath}/runs`) });
const queueSchema = z.object({ environmentId: z.string().min(1), queue: z.string().min(1) });
const limitSchema = z.object({
  environmentId: z.string().min(1),
  queue: z.preprocess((v) => (v === "" ? undefined : v), z.string().min(1).optional()),
  limit: z.preprocess((v) => (v === "" || v === undefined ? null : v), z.coerce.number().int().min(0).max(1_000_000).nullable()),
});
const redriveSchema = z.object({ runId: z.string().min(1) });
const bulkSchema = runFilterSchema.extend({ type: z.enum(["CANCEL", "REPLAY"]) });

const pageSize = 50;

/** Only a path inside the admin pages may be a login's destination (no open redirect). */
function safeNext(next: string): string {
  return next.startsWith(`${adminPath}/`) && !next.startsWith("//") ? next : `${adminPath}/runs`;
}

/**
 * A form post must come from these pages: browsers send Origin on posts, and a different host
 * means another site is trying to use the operator's cookie or Basic credentials.
 */
async function sameOrigin(request: FastifyRequest, reply: FastifyReply) {
  if (request.method !== "POST") return;
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host !== request.headers.host) return sendError(reply, 403, "FORBIDDEN", "Cross-site form posts are refused");
}

function html(reply: FastifyReply, body: string) {
  return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(body);
}

/**
 * The operators' pages under /admin: runs, one run, run queues, bulk actions. Server-rendered
 * HTML; every page and action needs the admin token (Bearer, Basic, or the cookie the login form
 * sets); the login form and the static assets are the only open paths.
 */
export function adminRoutes(handle: EngineHandle, adminToken: string | undefined): FastifyPluginAsync {
  const { engine } = handle;
  return async (app) => {
    acceptFormBodies(app);

    app.get("/login", async (request, reply) => {
      const { next } = loginSchema.parse(request.query ?? {});
      return html(reply, loginPage({ failed: false, next: safeNext(next) }));
    });

    app.post("/login", async (request, reply) => {
      const { token, next } = loginSchema.parse(request.body ?? {});
      if (!isAdminToken(adminToken, token)) return html(reply.status(401), loginPage({ failed: true, next: safeNext(next) }));
      reply.header("set-cookie", `${adminCookieName}=${encodeURIComponent(token)}; Path=${adminPath}; HttpOnly; SameSite=Strict`);
      return reply.redirect(safeNext(next), 303);
    });

    app.post("/logout", async (_request, reply) => {
      reply.header("set-cookie", `${adminCookieName}=; Path=${adminPath}; HttpOnly; SameSite=Strict; Max-Age=0`);
      return reply.redirect(`${adminPath}/login`, 303);
    });

    app.get("/assets/:file", async (request, reply) => {
      const { file } = z.object({ file: z.string() }).parse(request.params);
      if (!(file in assets)) return sendError(reply, 404, "NOT_FOUND", `No asset ${file}`);
      const body = await readFile(new URL(file, assetsDir), "utf8");
      return reply.type(assets[file as keyof typeof assets]).header("cache-control", "no-cache").send(body);
    });

    await app.register(async (pages) => {
      pages.addHook("onRequest", requireAdmin(adminToken, { browserPrompt: true }));
      pages.addHook("onRequest", sameOrigin);

      pages.get("/", async (_request, reply) => reply.redirect(`${adminPath}/runs`, 302));

      pages.get("/runs", async (request, reply) => {
        const { cursor, ...filter } = runsQuerySchema.parse(request.query);
        const [{ runs, nextCursor }, counts, environments] = await Promise.all([
          engine.inspector.search(filter, { limit: pageSize, ...(cursor ? { cursor } : {}) }),
          engine.inspector.statusCounts(filter),
          engine.inspector.environments(),
        ]);
        return html(reply, runsPage({ filter, runs, nextCursor, counts, environments }));
      });

      pages.get("/runs/counts", async (request) => {
        const { cursor: _cursor, ...filter } = runsQuerySchema.parse(request.query);
        return { counts: await engine.inspector.statusCounts(filter) };
      });

      pages.get("/runs/:id", async (request, reply) => {
        const { id } = idParams.parse(request.params);
        return html(reply, runPage(await engine.inspector.detail(id)));
      });

      pages.post("/runs/:id/cancel", async (request, reply) => {
        const { id } = idParams.parse(request.params);
        await engine.cancel(await engine.inspector.environmentOf(id), id);
        return reply.redirect(`${adminPath}/runs/${id}`, 303);
      });

      pages.post("/runs/:id/replay", async (request, reply) => {
        const { id } = idParams.parse(request.params);
        const replay = await engine.replay(await engine.inspector.environmentOf(id), id);
        return reply.redirect(`${adminPath}/runs/${replay.id}`, 303);
      });

      pages.get("/run-queues", async (_request, reply) => html(reply, queuesPage(await engine.queueConsole.overview())));

      pages.post("/run-queues/pause", async (request, reply) => {
        const { environmentId, queue } = queueSchema.parse(request.body);
        await engine.queueConsole.pause(environmentId, queue);
        return reply.redirect(`${adminPath}/run-queues`, 303);
      });

      pages.post("/run-queues/resume", async (request, reply) => {
        const { environmentId, queue } = queueSchema.parse(request.body);
        await engine.queueConsole.resume(environmentId, queue);
        return reply.redirect(`${adminPath}/run-queues`, 303);
      });

      pages.post("/run-queues/limit", async (request, reply) => {
        const { environmentId, queue, limit } = limitSchema.parse(request.body);
        await engine.queueConsole.setConcurrencyLimit(environmentId, queue, limit);
        return reply.redirect(`${adminPath}/run-queues`, 303);
      });

      pages.post("/run-queues/limit/declared", async (request, reply) => {
        const { environmentId, queue } = queueSchema.parse(request.body);
        await engine.queueConsole.useDeclaredLimit(environmentId, queue);
        return reply.redirect(`${adminPath}/run-queues`, 303);
      });

      pages.post("/run-queues/redrive", async (request, reply) => {
        const { runId } = redriveSchema.parse(request.body);
        await engine.queueConsole.redrive(runId);
        return reply.redirect(`${adminPath}/run-queues`, 303);
      });

      pages.get("/bulk-actions", async (_request, reply) => html(reply, bulkActionsPage(await engine.bulkActions.list())));

      pages.post("/bulk-actions", async (request, reply) => {
        const { type, ...filter } = bulkSchema.parse(request.body);
        const action = await engine.bulkActions.create(type, filter);
        return reply.redirect(`${adminPath}/bulk-actions/${action.id}`, 303);
      });

      pages.get("/bulk-actions/:id", async (request, reply) => {
        const { id } = idParams.parse(request.params);
        return html(reply, bulkActionPage(await engine.bulkActions.get(id)));
      });

      pages.get("/bulk-actions/:id/progress", async (request) => {
        const { id } = idParams.parse(request.params);
        return bulkActionProgress(await engine.bulkActions.get(id));
      });
    });
  };
}
