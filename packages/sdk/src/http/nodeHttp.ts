import http from "node:http";
import https from "node:https";

/** The part of a fetch Response the transport reads. */
export interface HttpResponse {
  ok: boolean;
  status: number;
  text(): Promise<string>;
}

export interface HttpRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/** What the transport sends requests with: `fetch` fits, and so does `nodeHttpRequest`. */
export type HttpSend = (url: URL, init: HttpRequestInit) => Promise<HttpResponse>;

/**
 * Kept-alive connections to the api. A free connection closes after `freeSocketTimeoutMs`, before
 * the api's own keep-alive timeout (Fastify's default is 72 s), so a request never goes out on a
 * connection the server is closing.
 */
const freeSocketTimeoutMs = 30_000;
const agents = {
  "http:": new http.Agent({ keepAlive: true, timeout: freeSocketTimeoutMs }),
  "https:": new https.Agent({ keepAlive: true, timeout: freeSocketTimeoutMs }),
};

/**
 * A request over node:http(s) with a kept-alive connection. A worker makes several calls per run;
 * Node's built-in fetch (undici) costs about four times the CPU of node:http per call.
 */
export function nodeHttpRequest(url: URL, init: HttpRequestInit): Promise<HttpResponse> {
  const transport = url.protocol === "https:" ? https : http;
  const agent = url.protocol === "https:" ? agents["https:"] : agents["http:"];
  const headers = init.body === undefined ? init.headers : { ...init.headers, "content-length": String(Buffer.byteLength(init.body)) };
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { method: init.method, headers, agent, signal: init.signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => {
        const status = response.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString("utf8");
        resolve({ ok: status >= 200 && status < 300, status, text: async () => body });
      });
    });
    request.on("error", reject);
    request.end(init.body);
  });
}
