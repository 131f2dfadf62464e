/**
 * CORS for what browsers read from the edge without uploading: feeds, media,
 * chapters, waveforms (web players, `<audio crossorigin>`), and the status and
 * management APIs (creators' web apps). Preflights are answered before any
 * auth: browsers send them without credentials.
 */
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env.ts";
import { allowedOrigin } from "../upload/cors.ts";

export interface CorsPolicy {
  /** "*" or comma-separated origins, from a Worker var. */
  origins: (env: Env) => string;
  methods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
}

/** Public media: range requests and revalidation allowed; what a player needs to seek and cache exposed. */
export const DELIVERY_CORS: CorsPolicy = {
  origins: (env) => env.DELIVERY_ORIGINS ?? "*",
  methods: ["GET", "HEAD", "OPTIONS"],
  allowHeaders: ["Range", "If-None-Match", "If-Modified-Since", "If-Range"],
  exposeHeaders: ["Content-Range", "Content-Length", "Accept-Ranges", "ETag", "Last-Modified", "Content-Type"],
};

/** Creators' tools: the status and management APIs, same origins as uploads (ALLOWED_ORIGINS). */
export const API_CORS: CorsPolicy = {
  origins: (env) => env.ALLOWED_ORIGINS ?? "*",
  methods: ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
  allowHeaders: ["Authorization", "Content-Type", "If-None-Match"],
  exposeHeaders: ["ETag", "Content-Length", "Location"],
};

export function cors(policy: CorsPolicy): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const origin = c.req.header("Origin");
    const allow = origin ? allowedOrigin(policy.origins(c.env), origin) : undefined;
    if (c.req.method === "OPTIONS") {
      if (!origin || !c.req.header("Access-Control-Request-Method")) {
        return new Response(null, { status: 204, headers: { Allow: policy.methods.join(", ") } });
      }
      if (!allow) return c.json({ error: `origin ${origin} is not allowed here` }, 403);
      return new Response(null, {
        status: 204,
        headers: {
          ...headersFor(allow, policy),
          "Access-Control-Allow-Methods": policy.methods.join(", "),
          "Access-Control-Allow-Headers": policy.allowHeaders.join(", "),
          "Access-Control-Max-Age": "86400",
        },
      });
    }
    await next();
    if (allow) {
      const res = new Response(c.res.body, c.res);
      for (const [name, value] of Object.entries(headersFor(allow, policy))) res.headers.set(name, value);
      c.res = res;
    }
  };
}

function headersFor(allow: string, policy: CorsPolicy): Record<string, string> {
  return {
    "Access-Control-Allow-Origin": allow,
    "Access-Control-Expose-Headers": policy.exposeHeaders.join(", "),
    // A list of origins: caches must keep one answer per origin.
    ...(allow === "*" ? {} : { Vary: "Origin" }),
  };
}
