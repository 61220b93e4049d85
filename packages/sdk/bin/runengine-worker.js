#!/usr/bin/env node
// The worker and the user's tasks file are TypeScript: teach Node to load .ts files, then start.
import { register } from "tsx/esm/api";

register();
await import("../src/bin/runengineWorker.ts");
