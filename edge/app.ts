import { Hono } from "hono";
import type { Env } from "./env.ts";
import { uploadRoutes } from "./upload/routes.ts";
import { podcastRoutes } from "./podcasts/routes.ts";
import { episodeRoutes } from "./episodes/routes.ts";
import { deliveryRoutes } from "./delivery/routes.ts";
import { uploadPageRoutes } from "./upload-page/routes.ts";
import { operatorRoutes } from "./operators/routes.ts";

/** The edge's HTTP surface. Each area is its own sub-app. */
export const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", (c) => c.json({ ok: true }));
app.route("/uploads", uploadRoutes);
app.route("/upload", uploadPageRoutes);
app.route("/podcasts", podcastRoutes);
app.route("/episodes", episodeRoutes);
app.route("/operators", operatorRoutes);
app.route("/", deliveryRoutes);

app.notFound((c) => c.json({ error: "not found" }, 404));
app.onError((err, c) => {
  console.error("unhandled error", err instanceof Error ? err.message : String(err));
  return c.json({ error: "internal error" }, 500);
});
