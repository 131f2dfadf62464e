/**
 * Who may manage a show: the admin token, or the show's own upload token for
 * that show only. Another show's token gets 404, exactly like a show that
 * does not exist, so ids cannot be probed.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env.ts";
import type { Podcast } from "../../shared/podcast.ts";
import { bearerToken, podcastForToken, secretsEqual } from "./auth.ts";

export type Caller = { admin: true } | { admin: false; podcast: Podcast };
export type ShowAccess = { Bindings: Env; Variables: { caller: Caller } };

const REALM = { "WWW-Authenticate": 'Bearer realm="podcast-pipeline"' };

/** 401 without a token, 403 when it is neither the admin token nor any show's token. */
export const identifyCaller: MiddlewareHandler<ShowAccess> = async (c, next) => {
  // Mounted on "/:id" and "/:id/*": identify once.
  if (c.get("caller")) return next();
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) return c.json({ error: "missing token: send Authorization: Bearer <upload token or admin token>" }, 401, REALM);
  if (c.env.ADMIN_TOKEN && (await secretsEqual(token, c.env.ADMIN_TOKEN))) {
    c.set("caller", { admin: true });
  } else {
    const podcast = await podcastForToken(c.env, token);
    if (!podcast) return c.json({ error: "token not valid" }, 403);
    c.set("caller", { admin: false, podcast });
  }
  await next();
};

/** True if the caller may see and change this show. */
export function mayManage(caller: Caller, podcastId: string): boolean {
  return caller.admin || caller.podcast.podcastId === podcastId;
}

export function showNotFound(c: Context) {
  return c.json({ error: "podcast not found" }, 404);
}

export function adminOnly(c: Context<ShowAccess>): Response | undefined {
  return c.var.caller.admin ? undefined : c.json({ error: "this needs the admin token" }, 403);
}
