import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env.ts";
import type { Podcast } from "../../shared/podcast.ts";
import { podcastIdFromToken } from "../../shared/podcast.ts";
import { readPodcast } from "./store.ts";

export type PodcastAuth = { Bindings: Env; Variables: { podcast: Podcast } };

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two secrets in constant time (both hashed first, so lengths match). */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all(
    [a, b].map(async (s) => new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)))),
  );
  return crypto.subtle.timingSafeEqual(ha!, hb!);
}

export function bearerToken(header: string | undefined | null): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

/**
 * The podcast an upload token belongs to, or undefined. The token is never
 * logged or echoed: only its hash is compared with the stored one.
 */
export async function podcastForToken(env: Env, token: string | undefined): Promise<Podcast | undefined> {
  if (!token) return undefined;
  const podcastId = podcastIdFromToken(token);
  const podcast = podcastId ? await readPodcast(env.MEDIA, podcastId) : null;
  // The same work whether or not the show exists: an unknown one is compared against a stand-in,
  // so the answer's timing does not tell which show ids are real.
  const equal = await secretsEqual(await sha256Hex(token), podcast?.uploadTokenSha256 ?? STAND_IN_HASH);
  return podcast && equal ? podcast : undefined;
}

/** No token hashes to this (it is not a hex SHA-256). */
const STAND_IN_HASH = "stand-in:".padEnd(64, "0");

function unauthorized(c: Context, message: string, status: 401 | 403) {
  return c.json({ error: message }, status, status === 401 ? { "WWW-Authenticate": 'Bearer realm="podcast-pipeline"' } : {});
}

/** Requires `Authorization: Bearer <upload token>`; sets c.var.podcast. 401 without a token, 403 with a wrong one. */
export const requirePodcast: MiddlewareHandler<PodcastAuth> = async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) return unauthorized(c, "missing upload token: send Authorization: Bearer <token>", 401);
  const podcast = await podcastForToken(c.env, token);
  if (!podcast) return unauthorized(c, "upload token not valid", 403);
  c.set("podcast", podcast);
  await next();
};

/** Requires `Authorization: Bearer <ADMIN_TOKEN>`. Without ADMIN_TOKEN configured, admin endpoints are closed. */
export const requireAdmin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!c.env.ADMIN_TOKEN) return c.json({ error: "admin API disabled: set the ADMIN_TOKEN secret" }, 503);
  if (!token) return unauthorized(c, "missing admin token", 401);
  if (!(await secretsEqual(token, c.env.ADMIN_TOKEN))) return unauthorized(c, "admin token not valid", 403);
  await next();
};
