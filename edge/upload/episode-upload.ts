/**
 * EpisodeUpload: one Durable Object per upload (named by the episode id).
 * It owns the upload's state, lets one request at a time write to it, and
 * keeps an alarm that completes or abandons the upload when nobody comes back.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { ABANDON_RETRY_MS, abandonUpload, settleAbandonment } from "./abandonment.ts";
import { completeUpload, COMPLETION_RETRY_MS } from "./completion.ts";
import { BUSY, type RequestScope, type UploadContext } from "./context.ts";
import { handleDelete } from "./handlers/delete.ts";
import { handleHead } from "./handlers/head.ts";
import { handlePatch } from "./handlers/patch.ts";
import { handlePost } from "./handlers/post.ts";
import { handleProgress } from "./handlers/progress.ts";
import { isExpired } from "./handlers/upload-state.ts";
import { uploadLimits } from "./limits.ts";
import { drainUnread } from "./drain.ts";
import { PROGRESS_METHOD } from "./progress.ts";
import { PODCAST_HEADER, tusError } from "./protocol.ts";
import { R2MultipartStore } from "./r2-multipart-store.ts";
import { startRequestTrace } from "./request-trace.ts";
import { allBytesReceived, isComplete, UploadRecords } from "./upload-record.ts";

/** How soon the alarm looks again while a request is writing. */
const BUSY_RETRY_MS = 15_000;

export class EpisodeUpload extends DurableObject<Env> {
  #writer: { done: Promise<void>; controller: AbortController } | undefined;

  #context(countReceived?: (bytes: number) => void): UploadContext {
    return {
      env: this.env,
      limits: uploadLimits(this.env),
      records: new UploadRecords(this.ctx.storage),
      countReceived,
      store: new R2MultipartStore(this.env.MEDIA),
      exclusive: (work) => this.#exclusive(work),
      preempt: (work) => this.#preempt(work),
      writerSettled: (maxMs) => this.#writerSettled(maxMs),
      scheduleAlarm: (at) => this.ctx.storage.setAlarm(at),
    };
  }

  async #exclusive<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T | typeof BUSY> {
    if (this.#writer) return BUSY;
    const controller = new AbortController();
    let release!: () => void;
    this.#writer = { controller, done: new Promise<void>((r) => (release = r)) };
    try {
      return await work(controller.signal);
    } finally {
      this.#writer = undefined;
      release();
    }
  }

  async #preempt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    for (;;) {
      const writer = this.#writer;
      if (!writer) break;
      writer.controller.abort();
      await writer.done;
    }
    // Checked and taken in the same turn: nothing can slip in between.
    return (await this.#exclusive(work)) as T;
  }

  async #writerSettled(maxMs: number): Promise<void> {
    const writer = this.#writer;
    if (!writer) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([writer.done, new Promise<void>((r) => (timer = setTimeout(r, maxMs)))]);
    clearTimeout(timer);
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const podcastId = request.headers.get(PODCAST_HEADER);
    const episodeId = url.pathname.split("/").pop() ?? "";
    if (!podcastId) return tusError(404, "upload not found");
    const scope: RequestScope = { podcastId, episodeId, uploadUrl: `${url.origin}/uploads/${episodeId}`, receivedAt: Date.now() };
    // Each tus request becomes a span under the upload's audio.upload (when telemetry is exported).
    const traced = await startRequestTrace(this.env, new UploadRecords(this.ctx.storage), request, scope);
    const response = await this.#handle(request, scope, traced?.countReceived);
    await drainUnread(request, response);
    if (traced) this.ctx.waitUntil(traced.finish(response.status));
    return response;
  }

  async #handle(request: Request, scope: RequestScope, countReceived?: (bytes: number) => void): Promise<Response> {
    const ctx = this.#context(countReceived);
    try {
      switch (request.method) {
        case "POST":
          return await handlePost(request, ctx, scope);
        case "HEAD":
          return await handleHead(ctx, scope);
        case "PATCH":
          return await handlePatch(request, ctx, scope);
        case "DELETE":
          return await handleDelete(ctx, scope);
        case PROGRESS_METHOD:
          return await handleProgress(ctx, scope);
        default:
          return tusError(405, `${request.method} is not a tus method`);
      }
    } catch (err) {
      // Whatever was recorded before the failure stays; the client resumes from HEAD's offset.
      console.error("upload request failed", request.method, scope.episodeId, err instanceof Error ? err.message : String(err));
      return tusError(500, "the upload could not be stored; retry from the offset HEAD reports");
    }
  }

  override async alarm(): Promise<void> {
    const ctx = this.#context();
    // The same lock as requests: the alarm never works on the upload alongside a writer.
    const outcome = await ctx.exclusive(async () => {
      const record = await ctx.records.read();
      if (!record) return;
      const now = Date.now();
      if (record.status === "gone") {
        if (!record.released || !record.reported) {
          await settleAbandonment(ctx, record).catch(async (err) => {
            console.error("releasing an abandoned upload failed; retrying", record.episodeId, String(err));
            await ctx.scheduleAlarm(now + ABANDON_RETRY_MS);
          });
        } else if (now >= record.forgetAt) {
          await ctx.records.forgetAll();
        } else {
          await ctx.scheduleAlarm(record.forgetAt);
        }
      } else if (isComplete(record)) {
        return;
      } else if (allBytesReceived(record)) {
        await completeUpload(ctx, record).catch(async (err) => {
          console.error("completing upload failed; retrying", record.episodeId, String(err));
          await ctx.scheduleAlarm(Date.now() + COMPLETION_RETRY_MS);
        });
      } else if (isExpired(record, now)) {
        await abandonUpload(ctx, record, "expired", `no data for ${ctx.limits.expirySeconds} seconds`);
      } else {
        // Data arrived since the alarm was set: the expiry moved.
        await ctx.scheduleAlarm(record.expiresAt);
      }
    });
    if (outcome === BUSY) await ctx.scheduleAlarm(Date.now() + BUSY_RETRY_MS);
  }
}
