import { Hono } from "hono";
import type { Env } from "../env.ts";
import { keys } from "../../shared/storage-keys.ts";
import { serveObject } from "./serve-object.ts";
import { cors, DELIVERY_CORS } from "./cors.ts";

/**
 * What podcast apps fetch: feeds and media, straight from the public/ part of
 * R2 (the CDN caches in front of this in production). Nothing outside
 * public/ is reachable from here: keys are built only from validated ids.
 */
export const deliveryRoutes = new Hono<{ Bindings: Env }>();

deliveryRoutes.use("/feeds/*", cors(DELIVERY_CORS));
deliveryRoutes.use("/media/*", cors(DELIVERY_CORS));
deliveryRoutes.options("/feeds/*", () => new Response(null, { status: 204 }));
deliveryRoutes.options("/media/*", () => new Response(null, { status: 204 }));

function keyOr404<T>(build: () => T): T | undefined {
  try {
    return build();
  } catch {
    return undefined;
  }
}

deliveryRoutes.on(["GET", "HEAD"], "/feeds/:file", async (c) => {
  const file = c.req.param("file");
  const key = file.endsWith(".xml") ? keyOr404(() => keys.feed(file.slice(0, -4))) : undefined;
  if (!key) return c.json({ error: "not found" }, 404);
  return serveObject(c.env.MEDIA, key, c.req.raw);
});

deliveryRoutes.on(["GET", "HEAD"], "/media/:podcastId/:episodeId/:file", async (c) => {
  const { podcastId, episodeId, file } = c.req.param();
  const key = keyOr404(() => keys.media(podcastId, episodeId, file));
  if (!key) return c.json({ error: "not found" }, 404);
  return serveObject(c.env.MEDIA, key, c.req.raw);
});
