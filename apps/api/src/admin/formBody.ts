import type { FastifyInstance } from "fastify";

/**
 * Parses HTML form posts (application/x-www-form-urlencoded) into an object; a field sent more
 * than once (checkboxes) becomes an array. Registered on the admin plugin only.
 */
export function acceptFormBodies(app: FastifyInstance): void {
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    const fields: Record<string, string | string[]> = {};
    for (const [name, value] of new URLSearchParams(body as string)) {
      const previous = fields[name];
      fields[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
    }
    done(null, fields);
  });
}
