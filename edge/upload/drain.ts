/**
 * Reading and dropping what is left of a request body before answering.
 * A server that answers while the client is still sending makes many clients
 * (browsers, Node, wrangler's dev proxy) report a reset connection instead of
 * the status and its message. Nothing drained is stored.
 */

/** Final answers (the client must read them: 404, 410, 413, 415...) are worth reading this much for. Cloudflare caps request bodies at 100-500 MB by plan. */
export const DRAIN_FINAL_BYTES = 512 * 1024 * 1024;
/** Transient answers (409, 423, 5xx) lead to a retry with HEAD anyway: a reset costs nothing there. */
export const DRAIN_TRANSIENT_BYTES = 1024 * 1024;
const IDLE_MS = 10_000;

export function drainLimit(status: number): number {
  return status === 409 || status === 423 || status >= 500 ? DRAIN_TRANSIENT_BYTES : DRAIN_FINAL_BYTES;
}

/** Reads and drops up to `maxBytes`; stops early when the body ends, breaks or stalls. */
export async function drainBody(reader: ReadableStreamDefaultReader<Uint8Array>, maxBytes: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    for (let drained = 0; drained < maxBytes; ) {
      const stalled = new Promise<{ done: true; value: undefined }>((resolve) => {
        timer = setTimeout(() => resolve({ done: true, value: undefined }), IDLE_MS);
      });
      const next = await Promise.race([reader.read(), stalled]).catch(() => ({ done: true as const, value: undefined }));
      clearTimeout(timer);
      if (next.done) return;
      drained += next.value.byteLength;
    }
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
}

/** Drains a request body nobody read, before `response` goes out. */
export async function drainUnread(request: Request, response: Response, maxBytes = drainLimit(response.status)): Promise<void> {
  const body = request.body;
  if (!body || body.locked || request.bodyUsed || response.status < 400) return;
  await drainBody(body.getReader(), maxBytes);
}
