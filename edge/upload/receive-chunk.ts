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
import { readBody } from "./body-reader.ts";
import { ChunkDigest, type ExpectedChecksum } from "./checksum.ts";
import { drainBody, DRAIN_FINAL_BYTES } from "./drain.ts";
import { PartBuffer } from "./part-buffer.ts";
import type { StoredPart, UploadStore } from "./store.ts";
import { tailKey, type ReceivingUpload, type UploadRecords } from "./upload-record.ts";

export { READ_IDLE_MS } from "./body-reader.ts";

/** What the chunk's checksum needs: fed as bytes arrive, compared at the end. */
export interface ChunkDigester {
  update(bytes: Uint8Array): Promise<void>;
  matches(): Promise<boolean>;
  discard(): void;
}

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
  records: Pick<UploadRecords, "save">;
  /** Told the size of every piece of the body as it is read. */
  onReceived?: (bytes: number) => void;
  /** Idle time after which the body counts as dropped (default READ_IDLE_MS). */
  idleMs?: number;
  /** The checksum's digest (default: workerd's DigestStream, ChunkDigest). */
  digester?: (expected: ExpectedChecksum) => ChunkDigester;
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
  const part = new PartBuffer(start.partBytes, { fill: 0, offset: start.offset, sniffed: start.sniffed });
  if (start.tail) {
    part.fill = await store.readTail(start.tail.key, part.bytes);
    if (part.fill !== start.tail.bytes) throw new Error(`staged tail holds ${part.fill} bytes, expected ${start.tail.bytes}`);
  }

  let saved = start;
  let parts = start.parts;
  let received = 0;
  let tailReleased = false;
  const pending: StoredPart[] = [];
  const digest = input.checksum ? (input.digester ?? ((e) => new ChunkDigest(e)))(input.checksum) : undefined;

  const save = async (changes: Partial<ReceivingUpload>, newParts: StoredPart[]) => {
    const next: ReceivingUpload = {
      ...saved,
      offset: part.offset,
      parts,
      sniffed: part.sniffed,
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
  // Without a checksum every full part is recorded at once (a dropped connection keeps it);
  // with one, parts wait until the whole chunk is verified.
  const cutPart = async (bytes: Uint8Array) => {
    const stored = await store.writePart(start.target, parts + 1, bytes);
    parts += 1;
    if (digest) {
      pending.push(stored);
    } else {
      await save({ tail: null }, [stored]);
      await releaseStartTail();
    }
  };

  const body = readBody(input.body, input.signal, input.idleMs);
  let tooLarge = false;
  let notAudio = false;
  try {
    for (let chunk = await body.next(); chunk; chunk = await body.next()) {
      if (part.offset + chunk.byteLength > input.limit) {
        tooLarge = true;
        break;
      }
      received += chunk.byteLength;
      input.onReceived?.(chunk.byteLength);
      await digest?.update(chunk);
      // Copy before storing: the offset must not count what is refused below.
      if (!(await part.push(chunk, (full) => cutPart(full)))) {
        notAudio = true;
        break;
      }
    }
  } finally {
    body.close();
  }
  const stopped = body.stopped;
  if (body.reader && !stopped && (notAudio || tooLarge)) {
    // Refused (415, 413): read the rest before answering, or the client may only see a reset connection.
    await drainBody(body.reader, DRAIN_FINAL_BYTES);
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

  const complete = saved.length !== null && part.offset === saved.length;
  if (complete) {
    if (part.fill > 0) {
      // Files smaller than SNIFF_BYTES end up here unsniffed, and are not audio.
      if (!part.sniffRest()) return { outcome: "not-audio" };
      pending.push(await store.writePart(start.target, parts + 1, part.rest()));
      parts += 1;
      part.fill = 0;
    }
    await save({ tail: null }, pending);
  } else if (part.fill > 0 && (received > 0 || pending.length > 0)) {
    // Less than a part left over: staged under a new version, so a discarded chunk leaves the old tail intact.
    const version = saved.tailVersion + 1;
    const key = tailKey(saved, version);
    await store.stageTail(key, part.rest());
    await save({ tail: { key, bytes: part.fill }, tailVersion: version }, pending);
  } else if (received > 0 || pending.length > 0) {
    await save({ tail: null }, pending);
  }
  await releaseStartTail();

  if (interruption && !complete) return { outcome: "interrupted", record: saved, reason: interruption };
  return { outcome: "stored", record: saved };
}
