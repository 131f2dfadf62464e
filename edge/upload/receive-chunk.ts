/**
 * Streams one chunk (a PATCH body, or a creation-with-upload POST body) into
 * equal-size multipart parts, holding at most one part in memory. Bytes that
 * do not fill a part are staged as a new versioned tail object, and the next
 * chunk starts by reading that tail back into the part buffer.
 *
 * Without Upload-Checksum every full part is recorded as soon as it is
 * stored, so a dropped connection keeps everything already received. With a
 * checksum nothing of the chunk is recorded until the digest matches: parts
 * written meanwhile are simply written again later (same part numbers), and
 * the previous tail is still the recorded one.
 */
import { ChunkDigest, type ExpectedChecksum } from "./checksum.ts";
import { drainBody, DRAIN_FINAL_BYTES } from "./drain.ts";
import { sniffAudio, SNIFF_BYTES } from "./sniff.ts";
import type { StoredPart, UploadStore } from "./store.ts";
import { tailKey, type ReceivingUpload, type UploadRecords } from "./upload-record.ts";

/** A body that sends nothing for this long is treated as a dropped connection, so the upload is not locked forever. */
export const READ_IDLE_MS = 30_000;


export interface ChunkInput {
  record: ReceivingUpload;
  body: ReadableStream<Uint8Array> | null;
  /** Content-Length, when the client sent one: fewer bytes means the connection broke. */
  contentLength: number | undefined;
  checksum: ExpectedChecksum | undefined;
  /** Aborted when the upload is terminated meanwhile. */
  signal: AbortSignal;
  /** Largest offset allowed: Upload-Length, or the maximum size while the length is deferred. */
  limit: number;
  expirySeconds: number;
  store: UploadStore;
  records: UploadRecords;
  /** Told the size of every piece of the body as it is read. */
  onReceived?: (bytes: number) => void;
}

export type ChunkResult =
  /** The whole chunk is recorded. */
  | { outcome: "stored"; record: ReceivingUpload }
  /** The body ended early (disconnect, idle, short body); `record` is what is kept. */
  | { outcome: "interrupted"; record: ReceivingUpload; reason: string }
  /** More bytes than the limit: the excess was refused, `record` is what is kept. */
  | { outcome: "too-large"; record: ReceivingUpload }
  /** The chunk is discarded, `record` unchanged. */
  | { outcome: "checksum-mismatch"; record: ReceivingUpload }
  /** The first bytes are not a supported audio container; nothing of the chunk is recorded. */
  | { outcome: "not-audio" }
  /** The upload was terminated while this chunk was arriving. */
  | { outcome: "terminated" };

export async function receiveChunk(input: ChunkInput): Promise<ChunkResult> {
  const { store, records, record: start } = input;
  const buffer = new Uint8Array(start.partBytes);
  let fill = start.tail ? await store.readTail(start.tail.key, buffer) : 0;
  if (start.tail && fill !== start.tail.bytes) throw new Error(`staged tail holds ${fill} bytes, expected ${start.tail.bytes}`);

  let saved = start;
  let offset = start.offset;
  let parts = start.parts;
  let sniffed = start.sniffed;
  let received = 0;
  let tailReleased = false;
  const pending: StoredPart[] = [];
  const digest = input.checksum ? new ChunkDigest(input.checksum) : undefined;

  const save = async (changes: Partial<ReceivingUpload>, newParts: StoredPart[]) => {
    const next: ReceivingUpload = {
      ...saved,
      offset,
      parts,
      sniffed,
      ...changes,
      expiresAt: Date.now() + input.expirySeconds * 1000,
    };
    await records.save(next, newParts);
    saved = next;
  };
  // The tail the chunk started from, once the record no longer points at it.
  const releaseStartTail = async () => {
    if (!start.tail || tailReleased || saved.tail?.key === start.tail.key) return;
    tailReleased = true;
    await store.deleteObjects([start.tail.key]);
  };
  const cutPart = async () => {
    const part = await store.writePart(start.target, parts + 1, buffer);
    parts += 1;
    fill = 0;
    if (digest) {
      pending.push(part);
    } else {
      await save({ tail: null }, [part]);
      await releaseStartTail();
    }
  };

  const reader = input.body?.getReader();
  let stopped: "disconnected" | "idle" | "terminated" | undefined;
  let tooLarge = false;
  let notAudio = false;
  // Idle is measured from when a read was asked for: time spent storing parts is not the client's.
  let waitingSince = Date.now();
  const stop = (why: "idle" | "terminated") => {
    stopped ??= why;
    reader?.cancel().catch(() => {});
  };
  const onAbort = () => stop("terminated");
  input.signal.addEventListener("abort", onAbort);
  const idleTimer = setInterval(() => {
    if (Date.now() - waitingSince > READ_IDLE_MS) stop("idle");
  }, 1000);

  try {
    read: while (reader && !stopped) {
      let chunk: Uint8Array;
      try {
        waitingSince = Date.now();
        const next = await reader.read();
        if (next.done) break;
        chunk = next.value;
      } catch {
        stopped ??= "disconnected";
        break;
      }
      if (offset + chunk.byteLength > input.limit) {
        tooLarge = true;
        break;
      }
      received += chunk.byteLength;
      input.onReceived?.(chunk.byteLength);
      await digest?.update(chunk);
      for (let at = 0; at < chunk.byteLength; ) {
        const n = Math.min(buffer.length - fill, chunk.byteLength - at);
        buffer.set(chunk.subarray(at, at + n), fill);
        fill += n;
        offset += n;
        at += n;
        // While nothing is sniffed no part exists yet, so the buffer starts at byte 0 of the file.
        if (!sniffed && offset >= SNIFF_BYTES) {
          if (!sniffAudio(buffer.subarray(0, fill))) {
            notAudio = true;
            break read;
          }
          sniffed = true;
        }
        if (fill === buffer.length) await cutPart();
      }
    }
  } finally {
    clearInterval(idleTimer);
    input.signal.removeEventListener("abort", onAbort);
  }
  if (reader && !stopped && (notAudio || tooLarge)) {
    // Refused (415, 413): read the rest before answering, or the client may only see a reset connection.
    await drainBody(reader, DRAIN_FINAL_BYTES);
  } else if (reader && stopped) {
    reader.cancel().catch(() => {});
  }

  if (notAudio) {
    digest?.discard();
    return { outcome: "not-audio" };
  }
  if (stopped === "terminated") {
    digest?.discard();
    return { outcome: "terminated" };
  }
  if (tooLarge) {
    // Nothing beyond what is already recorded is kept of an oversized chunk.
    digest?.discard();
    return { outcome: "too-large", record: saved };
  }
  const short = input.contentLength !== undefined && received < input.contentLength;
  const interruption = stopped ?? (short ? "body shorter than Content-Length" : undefined);
  if (digest) {
    // A checksum covers the whole chunk: an incomplete chunk cannot be verified and is dropped.
    if (interruption) {
      digest.discard();
      return { outcome: "interrupted", record: start, reason: interruption };
    }
    if (!(await digest.matches())) return { outcome: "checksum-mismatch", record: start };
  }

  const complete = saved.length !== null && offset === saved.length;
  if (complete) {
    if (fill > 0) {
      // Files smaller than SNIFF_BYTES end up here unsniffed, and are not audio.
      if (!sniffed && !sniffAudio(buffer.subarray(0, fill))) return { outcome: "not-audio" };
      sniffed = true;
      pending.push(await store.writePart(start.target, parts + 1, buffer.subarray(0, fill)));
      parts += 1;
      fill = 0;
    }
    await save({ tail: null }, pending);
  } else if (fill > 0 && (received > 0 || pending.length > 0)) {
    const version = saved.tailVersion + 1;
    const key = tailKey(saved, version);
    await store.stageTail(key, buffer.subarray(0, fill));
    await save({ tail: { key, bytes: fill }, tailVersion: version }, pending);
  } else if (received > 0 || pending.length > 0) {
    await save({ tail: null }, pending);
  }
  await releaseStartTail();

  if (interruption && !complete) return { outcome: "interrupted", record: saved, reason: interruption };
  return { outcome: "stored", record: saved };
}
