import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { RunEngineApiError, RunEngineConnectionError } from "../apiErrors.ts";
import { createJsonTransport } from "../jsonTransport.ts";

const connections = new Set<string>();
let server: http.Server;
let apiUrl: string;
beforeAll(async () => {
  server = http.createServer((request, response) => {
    connections.add(`${request.socket.remotePort}`);
    if (request.url === "/slow") return; // never answers
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const status = request.url === "/missing" ? 404 : 200;
      response.writeHead(status, { "content-type": "application/json" });
      response.end(status === 404 ? JSON.stringify({ error: { code: "NOT_FOUND", message: "no such run" } }) : JSON.stringify({ echo: JSON.parse(body || "null"), auth: request.headers.authorization }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test("calls go over one kept-alive connection, with the key, and replies are parsed", async () => {
  const transport = createJsonTransport({ apiUrl, apiKey: "key_1" });
  connections.clear();
  const schema = z.object({ echo: z.object({ i: z.number() }), auth: z.string() });
  for (let i = 0; i < 4; i++) {
    expect(await transport({ method: "POST", path: "/echo", body: { i }, retry: false, schema })).toEqual({ echo: { i }, auth: "Bearer key_1" });
  }
  expect(connections.size).toBe(1);
});

test("an error reply is a typed RunEngineApiError", async () => {
  const transport = createJsonTransport({ apiUrl, apiKey: "key_1" });
  const error = await transport({ method: "GET", path: "/missing", retry: false }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RunEngineApiError);
  expect(error).toMatchObject({ status: 404, code: "NOT_FOUND" });
});

test("no reply within the timeout is a connection error; the caller's abort rejects with its reason", async () => {
  const transport = createJsonTransport({ apiUrl, apiKey: "key_1", requestTimeoutMs: 100 });
  const startedAt = Date.now();
  await expect(transport({ method: "GET", path: "/slow", retry: false })).rejects.toBeInstanceOf(RunEngineConnectionError);
  expect(Date.now() - startedAt).toBeLessThan(5_000);

  const controller = new AbortController();
  const call = transport({ method: "GET", path: "/slow", retry: false, signal: controller.signal, timeoutMs: 10_000 });
  const reason = new Error("worker stopping");
  controller.abort(reason);
  await expect(call).rejects.toBe(reason);
});
