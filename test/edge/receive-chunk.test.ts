// receiveChunk on its own, in Node, against an in-memory UploadStore and
// record store (fakes of R2's multipart API and the Durable Object's storage,
// which cannot run outside workerd; the protocol over the real ones is
// tested in upload-protocol.test.ts and upload-resume.test.ts). The
// checksum's digest is WebCrypto's over the buffered chunk instead of
// workerd's DigestStream. Type-checked with the Worker's types
// (edge/tsconfig.json), like the code it tests.
import { describe, expect, it } from "vitest";
import { receiveChunk, type ChunkInput, type ChunkResult } from "../../edge/upload/receive-chunk.ts";
import type { ExpectedChecksum } from "../../edge/upload/checksum.ts";
import type { StoredPart, UploadStore, UploadTarget } from "../../edge/upload/store.ts";
import type { ReceivingUpload } from "../../edge/upload/upload-record.ts";

const PART = 16;

class FakeStore implements UploadStore {
  parts = new Map<number, Uint8Array>();
  tails = new Map<string, Uint8Array>();
  writes: number[] = [];
  async begin(key: string): Promise<UploadTarget> {
    return { key, uploadId: "u1" };
  }
  async writePart(_t: UploadTarget, partNumber: number, bytes: Uint8Array): Promise<StoredPart> {
    this.writes.push(partNumber);
    this.parts.set(partNumber, bytes.slice());
    return { partNumber, etag: `etag-${partNumber}-${this.writes.length}` };
  }
  async complete(): Promise<void> {}
  async abort(): Promise<void> {}
  async stageTail(key: string, bytes: Uint8Array): Promise<void> {
    this.tails.set(key, bytes.slice());
  }
  async readTail(key: string, into: Uint8Array): Promise<number> {
    const t = this.tails.get(key)!;
    into.set(t);
    return t.length;
  }
  async deleteObjects(keys: string[]): Promise<void> {
    for (const k of keys) this.tails.delete(k);
  }
  async deleteObjectsUnder(): Promise<void> {}
}

class FakeRecords {
  saved: { record: ReceivingUpload; parts: StoredPart[] }[] = [];
  async save(record: ReceivingUpload, parts: StoredPart[] = []): Promise<void> {
    this.saved.push({ record, parts });
  }
}

/** A WAV header: what the sniffer accepts as the first bytes of an upload. */
const WAV = new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x41, 0x56, 0x45]);

function bytes(n: number, from = 0): Uint8Array {
  const b = Uint8Array.from({ length: n }, (_, i) => (from + i) % 251);
  if (from === 0) b.set(WAV.subarray(0, Math.min(n, WAV.length)));
  return b;
}

function upload(overrides: Partial<ReceivingUpload> = {}): ReceivingUpload {
  return {
    status: "receiving",
    episodeId: "ep",
    podcastId: "pod",
    length: 100,
    offset: 0,
    partBytes: PART,
    parts: 0,
    tail: null,
    tailVersion: 0,
    sniffed: false,
    target: { key: "uploads/pod/ep/source", uploadId: "u1" },
    metadata: { title: "t", filename: "f.wav" } as ReceivingUpload["metadata"],
    rawMetadata: "",
    createdAt: "",
    expiresAt: 0,
    trace: { traceId: "0".repeat(32), spanId: "0".repeat(16) },
    storedAt: null,
    completedAt: null,
    ...overrides,
  };
}

function body(pieces: Uint8Array[], opts: { breakAfter?: boolean; hang?: boolean } = {}): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < pieces.length) return c.enqueue(pieces[i++]!);
      if (opts.breakAfter) return c.error(new Error("connection reset"));
      if (opts.hang) return new Promise(() => {});
      c.close();
    },
  });
}

const concat = (list: Uint8Array[]) => {
  const out = new Uint8Array(list.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of list) {
    out.set(b, at);
    at += b.length;
  }
  return out;
};
const digestOf = async (algorithm: ExpectedChecksum["algorithm"], b: Uint8Array) =>
  new Uint8Array(await crypto.subtle.digest(algorithm === "sha1" ? "SHA-1" : "SHA-256", b));
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

const testDigest = (e: ExpectedChecksum) => {
  const seen: Uint8Array[] = [];
  return {
    async update(b: Uint8Array) {
      seen.push(b.slice());
    },
    async matches() {
      return same(await digestOf(e.algorithm, concat(seen)), e.digest);
    },
    discard() {},
  };
};

async function receive(
  record: ReceivingUpload,
  pieces: Uint8Array[],
  extra: Partial<ChunkInput> & { breakAfter?: boolean; hang?: boolean } = {},
): Promise<{ result: ChunkResult; store: FakeStore; records: FakeRecords }> {
  const store = (extra.store as FakeStore | undefined) ?? new FakeStore();
  const records = new FakeRecords();
  const result = await receiveChunk({
    record,
    body: body(pieces, extra),
    contentLength: extra.contentLength,
    checksum: extra.checksum,
    signal: extra.signal ?? new AbortController().signal,
    limit: extra.limit ?? record.length ?? 1000,
    expirySeconds: 60,
    store,
    records,
    digester: testDigest,
    ...(extra.idleMs ? { idleMs: extra.idleMs } : {}),
  });
  return { result, store, records };
}

const sha1 = async (b: Uint8Array): Promise<ExpectedChecksum> => ({ algorithm: "sha1", digest: await digestOf("sha1", b) });

describe("receiveChunk", () => {
  it("cuts any chunk sizes into equal parts and stages the rest as a tail", async () => {
    const data = bytes(40);
    const { result, store, records } = await receive(upload(), [data.subarray(0, 5), data.subarray(5, 37), data.subarray(37)]);
    expect(result.outcome).toBe("stored");
    const r = (result as { record: ReceivingUpload }).record;
    expect(r).toMatchObject({ offset: 40, parts: 2, sniffed: true, tail: { bytes: 8 }, tailVersion: 1 });
    expect([...store.parts.keys()]).toEqual([1, 2]);
    expect(concat([store.parts.get(1)!, store.parts.get(2)!, store.tails.get(r.tail!.key)!])).toEqual(data);
    // Without a checksum each part is recorded as soon as it is stored.
    expect(records.saved.map((s) => s.parts.map((p) => p.partNumber))).toEqual([[1], [2], []]);
  });

  it("starts the next chunk from the staged tail, then releases it", async () => {
    const data = bytes(40);
    const first = await receive(upload(), [data.subarray(0, 20)]);
    const after = (first.result as { record: ReceivingUpload }).record;
    expect(after).toMatchObject({ offset: 20, parts: 1, tail: { bytes: 4 } });
    const oldTail = after.tail!.key;
    const { result, store } = await receive(after, [data.subarray(20, 40)], { store: first.store });
    const r = (result as { record: ReceivingUpload }).record;
    expect(r).toMatchObject({ offset: 40, parts: 2, tail: { bytes: 8 }, tailVersion: 2 });
    expect(store.tails.has(oldTail)).toBe(false);
    expect(store.parts.get(2)!).toEqual(data.slice(16, 32));
  });

  it("writes the last, shorter part when the upload completes", async () => {
    const data = bytes(100);
    const { result, store } = await receive(upload(), [data]);
    expect((result as { record: ReceivingUpload }).record).toMatchObject({ offset: 100, parts: 7, tail: null });
    expect(store.parts.get(7)!.length).toBe(4);
  });

  it("a checksum mismatch rolls the whole chunk back: the record and the previous tail are kept", async () => {
    const data = bytes(60);
    const first = await receive(upload(), [data.subarray(0, 20)]);
    const before = (first.result as { record: ReceivingUpload }).record;
    const chunk = data.subarray(20, 60);
    const wrong = await sha1(bytes(40, 7));
    const { result, store, records } = await receive(before, [chunk], { store: first.store, checksum: wrong });
    expect(result).toEqual({ outcome: "checksum-mismatch", record: before });
    expect(records.saved).toEqual([]);
    expect(store.tails.has(before.tail!.key)).toBe(true);
    // The same chunk with its right checksum is then taken whole, parts recorded together.
    const ok = await receive(before, [chunk], { store, checksum: await sha1(chunk) });
    expect((ok.result as { record: ReceivingUpload }).record).toMatchObject({ offset: 60, parts: 3, tail: { bytes: 12 } });
    expect(ok.records.saved.map((s) => s.parts.map((p) => p.partNumber))).toEqual([[2, 3]]);
  });

  it("a chunk with a checksum that breaks off is dropped entirely; without one, what arrived is kept", async () => {
    const data = bytes(40);
    const withSum = await receive(upload(), [data.subarray(0, 30)], { checksum: await sha1(data), breakAfter: true });
    expect(withSum.result).toMatchObject({ outcome: "interrupted", reason: "disconnected", record: { offset: 0, parts: 0 } });
    expect(withSum.records.saved).toEqual([]);
    const without = await receive(upload(), [data.subarray(0, 30)], { breakAfter: true });
    expect(without.result).toMatchObject({
      outcome: "interrupted",
      reason: "disconnected",
      record: { offset: 30, parts: 1, tail: { bytes: 14 } },
    });
  });

  it("refuses bytes beyond the limit and keeps only what was recorded before", async () => {
    const data = bytes(40);
    const { result } = await receive(upload({ length: 30 }), [data.subarray(0, 20), data.subarray(20, 40)], { limit: 30 });
    expect(result).toMatchObject({ outcome: "too-large", record: { offset: 16, parts: 1 } });
  });

  it("refuses content that is not audio before storing any of it", async () => {
    const { result, store, records } = await receive(upload(), [new TextEncoder().encode("%PDF-1.7 not audio at all, a document")]);
    expect(result).toEqual({ outcome: "not-audio" });
    expect(store.writes).toEqual([]);
    expect(records.saved).toEqual([]);
  });

  it("a body that goes quiet counts as dropped; a termination meanwhile ends it", async () => {
    const data = bytes(40);
    const idle = await receive(upload(), [data.subarray(0, 20)], { hang: true, idleMs: 200 });
    expect(idle.result).toMatchObject({ outcome: "interrupted", reason: "idle", record: { offset: 20 } });

    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const terminated = await receive(upload(), [data.subarray(0, 20)], { hang: true, signal: abort.signal });
    expect(terminated.result).toEqual({ outcome: "terminated" });
  });

  it("a body shorter than its Content-Length is an interruption", async () => {
    const { result } = await receive(upload(), [bytes(20)], { contentLength: 30 });
    expect(result).toMatchObject({ outcome: "interrupted", reason: "body shorter than Content-Length", record: { offset: 20 } });
  });
});
