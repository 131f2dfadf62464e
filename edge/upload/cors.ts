/**
 * CORS for browser uploads: preflights are answered here (before any auth,
 * since browsers send them without credentials), and every response to an
 * allowed origin exposes the tus headers. ALLOWED_ORIGINS is "*" or a
 * comma-separated list of origins.
 */
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env.ts";
import { TUS_REQUEST_HEADERS, TUS_RESPONSE_HEADERS } from "./protocol.ts";

export const UPLOAD_METHODS = ["POST", "HEAD", "PATCH", "DELETE", "OPTIONS"] as const;

/** The Access-Control-Allow-Origin value for `origin`, or undefined if it may not upload. */
export function allowedOrigin(allowed: string, origin: string): string | undefined {
  const list = allowed
    .split(",")
    .map((o) => o.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  if (list.includes("*")) return "*";
  return list.includes(origin) ? origin : undefined;
}

function corsHeaders(allowOrigin: string): Record<string, string> {
  return {
    "Access-Control-Allow-Origin": allowOrigin,
    "Access-Control-Expose-Headers": TUS_RESPONSE_HEADERS.join(", "),
    ...(allowOrigin === "*" ? {} : { Vary: "Origin" }),
  };
}

/**
 * @param preflightHeaders extra headers for the preflight answer (the tus discovery headers)
 */
export function uploadCors(preflightHeaders: (env: Env) => Record<string, string>): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const origin = c.req.header("Origin");
    const allow = origin ? allowedOrigin(c.env.ALLOWED_ORIGINS ?? "", origin) : undefined;
    if (c.req.method === "OPTIONS" && origin && c.req.header("Access-Control-Request-Method")) {
      if (!allow) return c.json({ error: `origin ${origin} may not upload here (ALLOWED_ORIGINS)` }, 403);
      return new Response(null, {
        status: 204,
        headers: {
          ...preflightHeaders(c.env),
          ...corsHeaders(allow),
          "Access-Control-Allow-Methods": UPLOAD_METHODS.join(", "),
          "Access-Control-Allow-Headers": TUS_REQUEST_HEADERS.join(", "),
          "Access-Control-Max-Age": "86400",
        },
      });
    }
    await next();
    if (allow) {
      // Responses forwarded from the Durable Object have immutable headers: copy before adding.
      const res = new Response(c.res.body, c.res);
      for (const [name, value] of Object.entries(corsHeaders(allow))) res.headers.set(name, value);
      c.res = res;
    }
  };
}
