/**
 * Reading one request body for the upload: chunk by chunk, stopping when the
 * client goes quiet (idle), the upload is terminated meanwhile (the signal),
 * or the connection breaks. Kept apart from the part cutting, as @tus/server
 * keeps its stream splitter apart from its handlers.
 */

/** A body that sends nothing for this long is treated as a dropped connection, so the upload is not locked forever. */
export const READ_IDLE_MS = 30_000;

export type StopReason = "disconnected" | "idle" | "terminated";

export interface BodyReader {
  /** The next piece, or undefined when the body ended or reading stopped (see `stopped`). */
  next(): Promise<Uint8Array | undefined>;
  /** Why reading stopped before the body's end, if it did. */
  readonly stopped: StopReason | undefined;
  /** The underlying reader, e.g. to drain what is left before a final answer. */
  readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Stops the idle timer and the abort listener; cancels the body if reading stopped early. */
  close(): void;
}

export function readBody(body: ReadableStream<Uint8Array> | null, signal: AbortSignal, idleMs = READ_IDLE_MS): BodyReader {
  const reader = body?.getReader();
  let stopped: StopReason | undefined;
  // Idle is measured from when a read was asked for: time spent storing parts is not the client's.
  let waitingSince = Date.now();
  const stop = (why: "idle" | "terminated") => {
    stopped ??= why;
    reader?.cancel().catch(() => {});
  };
  const onAbort = () => stop("terminated");
  signal.addEventListener("abort", onAbort);
  const idleTimer = setInterval(
    () => {
      if (Date.now() - waitingSince > idleMs) stop("idle");
    },
    Math.min(1000, idleMs),
  );
  return {
    reader,
    get stopped() {
      return stopped;
    },
    async next() {
      if (!reader || stopped) return undefined;
      try {
        waitingSince = Date.now();
        const r = await reader.read();
        return r.done || stopped ? undefined : r.value;
      } catch {
        stopped ??= "disconnected";
        return undefined;
      }
    },
    close() {
      clearInterval(idleTimer);
      signal.removeEventListener("abort", onAbort);
      if (stopped) reader?.cancel().catch(() => {});
    },
  };
}
