import type { DispatchClient, EngineHandle } from "@runengine/core";
import type { ApiMetrics } from "../metrics.ts";

/** What route plugins are built from; each takes only what it uses. */
export interface RouteContext {
  handle: EngineHandle;
  metrics: ApiMetrics;
  /** this process's one relay to the dispatchers, shared by every waiting dequeue */
  dispatch: DispatchClient;
  /** the body limit of the routes that take a batch (API_BATCH_BODY_LIMIT_BYTES) */
  batchBodyLimitBytes: number;
}
