import { Hono } from "hono";
import type { Env } from "../env.ts";

/** tus 1.0 upload endpoint, mounted at /uploads. (Being built: see edge/upload/.) */
export const uploadRoutes = new Hono<{ Bindings: Env }>();
