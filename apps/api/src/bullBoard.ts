import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { FastifyPluginAsync } from "fastify";
import type { EngineHandle } from "@runengine/core";
import { requireAdmin } from "./auth.ts";

export const bullBoardPath = "/admin/queues";

/** Bull Board over every BullMQ queue of the engine, for operators only. */
export function bullBoard(handle: EngineHandle, adminToken: string | undefined): FastifyPluginAsync {
  return async (app) => {
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(bullBoardPath);
    createBullBoard({
      queues: handle.engine.resources.jobs.allQueues().map((queue) => new BullMQAdapter(queue)),
      serverAdapter,
      // links back to the operators' pages (apps/api/src/admin), which link here
      options: {
        uiConfig: {
          boardTitle: "Run Engine jobs",
          miscLinks: [
            { text: "Runs", url: "/admin/runs" },
            { text: "Run queues", url: "/admin/run-queues" },
          ],
        },
      },
    });
    app.addHook("onRequest", requireAdmin(adminToken, { browserPrompt: true }));
    await app.register(serverAdapter.registerPlugin(), { prefix: bullBoardPath });
  };
}
