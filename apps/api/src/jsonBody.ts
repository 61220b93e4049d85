import type { FastifyInstance } from "fastify";

/**
 * Replaces Fastify's JSON parser with one that reads an empty body as no body: HTTP clients often
 * send `content-type: application/json` on every request, including bodiless ones such as a
 * cancel. Malformed JSON is still a 400. Bodies are only ever read through zod schemas, which copy
 * known keys, so a `__proto__` key cannot reach an object's prototype.
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(Object.assign(new Error(`Body is not valid JSON: ${(error as Error).message}`), { statusCode: 400, code: "INVALID_JSON" }), undefined);
    }
  });
}

/**
 * The body of a route whose fields are all optional: no body at all means no fields, while a body
 * that is there must be an object (a JSON `null` or `3` is refused by the route's schema).
 */
export function optionalFields(body: unknown): unknown {
  return body === undefined ? {} : body;
}
