import { defineConfig } from "prisma/config";

// Only `prisma generate` runs through this config; migrations are applied by src/migrate.ts
// because Prisma's native schema engine cannot be downloaded on our machines (see README.md).
export default defineConfig({
  schema: "../../prisma/schema.prisma",
});
