// tus 1.0.0 at the edge, request by request: status codes, headers, CORS,
// authorisation, metadata and content checks, against workerd (wrangler dev)
// with its Durable Objects and local R2. Stored bytes are read back through
// the local S3 endpoint.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../shared/storage-keys.ts";
import { AudioDir, type AudioFile } from "../support/audio.ts";
import { getObject, listKeys, localS3, sha256 } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { bearer, checksum, createUpload, deleteUpload, headUpload, patchUpload, TUS, uploadMetadata } from "../support/tus.ts";

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const MAX = 64 * MiB;
const EXPIRY_SECONDS = 3600;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let audio: AudioDir;
let show: CreatedPodcast;
let other: CreatedPodcast;
let wav: AudioFile; // ~12 MiB: two full parts and a tail
let wavBytes: Buffer;

beforeAll(async () => {
  audio = await AudioDir.create();
  [stack, wav] = await Promise.all([
    startTestStack({
      edgeVars: {
        UPLOAD_PART_BYTES: String(PART),
        MAX_UPLOAD_BYTES: String(MAX),
        UPLOAD_EXPIRY_SECONDS: String(EXPIRY_SECONDS),
        ALLOWED_ORIGINS: "https://studio.example, https://app.example",
      },
    }),
    audio.generate("wav", 72),
  ]);
  wavBytes = await readFile(wav.path);
  [show, other] = await Promise.all([createPodcast(stack), createPodcast(stack, { title: "Another show" })]);
});
afterAll(async () => {
  await stack?.cleanup();
  await audio?.cleanup();
});

const s3 = () => localS3(stack);
const sourceKey = (episodeId: string, podcastId = show.podcastId) => keys.source(podcastId, episodeId);
const uploadKeys = (episodeId: string, podcastId = show.podcastId) => listKeys(s3(), keys.uploadPrefix(podcastId, episodeId));

/** Creates an upload of `length` bytes for `show`; returns its URL and episode id. */
async function newUpload(length: number | "deferred" = wav.size, metadata?: string) {
  const res = await createUpload(stack.edgeUrl, show.uploadToken, { length, ...(metadata ? { metadata } : {}) });
  expect(res.status, await res.clone().text()).toBe(201);
  const url = res.headers.get("Location")!;
  return { url, episodeId: res.headers.get("Episode-Id")!, res };
}

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: string }).error;
}

describe("discovery (OPTIONS)", () => {
  it("advertises tus 1.0.0, its extensions, the maximum size and checksum algorithms, without a token", async () => {
    const res = await fetch(`${stack.edgeUrl}/uploads`, { method: "OPTIONS" });
    expect(res.status).toBe(204);
    expect(res.headers.get("Tus-Version")).toBe("1.0.0");
    expect(res.headers.get("Tus-Extension")!.split(",").sort()).toEqual([
      "checksum",
      "creation",
      "creation-defer-length",
      "creation-with-upload",
      "expiration",
      "termination",
    ]);
    expect(res.headers.get("Tus-Max-Size")).toBe(String(MAX));
    expect(res.headers.get("Tus-Checksum-Algorithm")!.split(",")).toEqual(["sha1", "sha256"]);
  });
});

describe("CORS", () => {
  it("answers a preflight from an allowed origin with the tus request headers", async () => {
    const res = await fetch(`${stack.edgeUrl}/uploads/00000000-0000-4000-8000-000000000000`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://studio.example",
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "upload-offset,tus-resumable",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://studio.example");
    expect(res.headers.get("Vary")).toContain("Origin");
    expect(res.headers.get("Access-Control-Allow-Methods")).toContain("PATCH");
    const allowed = res.headers.get("Access-Control-Allow-Headers")!.toLowerCase();
    for (const h of [
      "authorization",
      "tus-resumable",
      "upload-offset",
      "upload-length",
      "upload-metadata",
      "upload-checksum",
      "upload-defer-length",
    ]) {
      expect(allowed).toContain(h);
    }
  });

  it("refuses a preflight from an origin that is not configured", async () => {
    const res = await fetch(`${stack.edgeUrl}/uploads`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(await errorOf(res)).toContain("https://evil.example");
  });

  it("exposes the tus response headers to an allowed origin, on success and on errors", async () => {
    const res = await createUpload(stack.edgeUrl, show.uploadToken, { length: wav.size, headers: { Origin: "https://app.example" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    const exposed = res.headers.get("Access-Control-Expose-Headers")!.toLowerCase();
    for (const h of ["location", "episode-id", "upload-offset", "upload-length", "upload-expires", "tus-resumable"])
      expect(exposed).toContain(h);

    const denied = await fetch(`${stack.edgeUrl}/uploads`, { method: "POST", headers: { ...TUS, Origin: "https://app.example" } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");

    const foreign = await createUpload(stack.edgeUrl, show.uploadToken, { length: wav.size, headers: { Origin: "https://evil.example" } });
    expect(foreign.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("protocol version and authorisation", () => {
  it("412s a request without Tus-Resumable 1.0.0 and names the supported version", async () => {
    for (const version of [undefined, "0.2.2"]) {
      const res = await fetch(`${stack.edgeUrl}/uploads`, {
        method: "POST",
        headers: { ...bearer(show.uploadToken), "Upload-Length": "100", ...(version ? { "Tus-Resumable": version } : {}) },
      });
      expect(res.status).toBe(412);
      expect(res.headers.get("Tus-Version")).toBe("1.0.0");
      expect(await errorOf(res)).toMatch(/Tus-Resumable|not supported/);
    }
  });

  it("401s without a token and 403s a wrong one, never echoing it", async () => {
    const none = await fetch(`${stack.edgeUrl}/uploads`, { method: "POST", headers: { ...TUS, "Upload-Length": "100" } });
    expect(none.status).toBe(401);
    expect(none.headers.get("Tus-Resumable")).toBe("1.0.0");
    const forged = `pp_${show.podcastId}_${"x".repeat(43)}`;
    const wrong = await createUpload(stack.edgeUrl, forged, { length: 100 });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).not.toContain(forged);
  });

  it("hides one podcast's uploads from another podcast's token: 404 for HEAD, PATCH and DELETE, upload untouched", async () => {
    const { url, episodeId } = await newUpload();
    const first = wavBytes.subarray(0, 1000);
    expect((await patchUpload(url, show.uploadToken, 0, first)).status).toBe(204);

    const head = await headUpload(url, other.uploadToken);
    expect(head.status).toBe(404);
    expect(head.headers.get("Upload-Offset")).toBeNull();
    const patch = await patchUpload(url, other.uploadToken, 1000, wavBytes.subarray(1000, 2000));
    expect(patch.status).toBe(404);
    expect(await errorOf(patch)).toBe("upload not found");
    expect((await deleteUpload(url, other.uploadToken)).status).toBe(404);
    // Same answer as for an id that never existed: nothing leaks.
    const unknown = await headUpload(`${stack.edgeUrl}/uploads/${crypto.randomUUID()}`, other.uploadToken);
    expect(unknown.status).toBe(404);

    const mine = await headUpload(url, show.uploadToken);
    expect(mine.status).toBe(200);
    expect(mine.headers.get("Upload-Offset")).toBe("1000");
    expect(await uploadKeys(episodeId)).toHaveLength(1); // the staged tail
  });
});

describe("creation", () => {
  it("201s with Location, Episode-Id and Upload-Expires (RFC 9110), and HEAD describes the new upload", async () => {
    const metadata = uploadMetadata({
      title: "Ünïcode title, with comma",
      filename: "take 1.wav",
      description: "d",
      filetype: "audio/wav",
    });
    const before = Date.now();
    const { url, episodeId, res } = await newUpload(wav.size, metadata);
    expect(res.headers.get("Tus-Resumable")).toBe("1.0.0");
    expect(episodeId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(url).toBe(`${stack.edgeUrl}/uploads/${episodeId}`);
    const expires = res.headers.get("Upload-Expires")!;
    expect(expires).toMatch(
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    const expiresMs = Date.parse(expires);
    expect(expiresMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + EXPIRY_SECONDS * 1000);
    expect(expiresMs).toBeLessThan(Date.now() + EXPIRY_SECONDS * 1000 + 5000);

    const head = await headUpload(url, show.uploadToken);
    expect(head.status).toBe(200);
    expect(head.headers.get("Upload-Offset")).toBe("0");
    expect(head.headers.get("Upload-Length")).toBe(String(wav.size));
    expect(head.headers.get("Upload-Metadata")).toBe(metadata);
    expect(head.headers.get("Cache-Control")).toBe("no-store");
    expect(head.headers.get("Tus-Resumable")).toBe("1.0.0");
    expect(head.headers.get("Upload-Expires")).toBe(expires);
  });

  it.each([
    [{ length: undefined }, 400, "Upload-Length"],
    [{ length: 0 }, 400, "empty"],
    [{ length: -5 as number }, 400, "whole number"],
    [{ length: MAX + 1 }, 413, `largest upload accepted is ${MAX} bytes`],
    [{ headers: { "Upload-Defer-Length": "2" }, length: "deferred" as const }, 400, "Upload-Defer-Length must be 1"],
    [{ metadata: null }, 400, "Upload-Metadata is required"],
    [{ metadata: uploadMetadata({ filename: "a.wav" }) }, 400, '"title" is required'],
    [{ metadata: uploadMetadata({ title: "T" }) }, 400, '"filename" is required'],
    [{ metadata: uploadMetadata({ title: "x".repeat(301), filename: "a.wav" }) }, 400, '"title" must be at most 300 characters'],
    [
      { metadata: uploadMetadata({ title: "T", filename: "a.wav", description: "d".repeat(4001) }) },
      400,
      '"description" must be at most 4000',
    ],
    [{ metadata: uploadMetadata({ title: "T", filename: "../../" }) }, 400, '"filename" does not name a file'],
    [{ metadata: uploadMetadata({ title: "T", filename: "a.wav", filetype: "not a type" }) }, 400, '"filetype" must be a MIME type'],
    [{ metadata: "title !!!notbase64" }, 400, '"title" is not valid base64'],
    [{ metadata: `title ${Buffer.from([0xff, 0xfe]).toString("base64")},filename YS53YXY=` }, 400, '"title" is not UTF-8'],
    [{ metadata: "title VA==,title VA==,filename YS53YXY=" }, 400, '"title" appears twice'],
  ])("refuses a bad creation request (%#) with a clear message, storing nothing", async (opts, status, message) => {
    const length = "length" in opts ? opts.length : wav.size;
    const res = await createUpload(stack.edgeUrl, show.uploadToken, { ...opts, length } as Parameters<typeof createUpload>[2]);
    expect(res.status).toBe(status);
    expect(res.headers.get("Location")).toBeNull();
    expect(await errorOf(res)).toContain(message);
  });

  it("creation-with-upload: a whole small file in the POST is stored and completed", async () => {
    const small = await audio.generate("flac", 3);
    const bytes = await readFile(small.path);
    const res = await createUpload(stack.edgeUrl, show.uploadToken, {
      length: bytes.length,
      body: bytes,
      metadata: uploadMetadata({ title: "Short", filename: "short.flac" }),
      headers: { "Upload-Checksum": checksum("sha256", bytes) },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get("Upload-Offset")).toBe(String(bytes.length));
    expect(res.headers.get("Upload-Expires")).toBeNull(); // complete: nothing expires
    const episodeId = res.headers.get("Episode-Id")!;
    expect(sha256((await getObject(s3(), sourceKey(episodeId)))!)).toBe(small.sha256);
    expect(await uploadKeys(episodeId)).toEqual([sourceKey(episodeId)]);
  });

  it("creation-with-upload: the first chunk in the POST, the rest by PATCH", async () => {
    const first = wavBytes.subarray(0, 3 * MiB);
    const res = await createUpload(stack.edgeUrl, show.uploadToken, { length: wav.size, body: first });
    expect(res.status).toBe(201);
    expect(res.headers.get("Upload-Offset")).toBe(String(first.length));
    expect(res.headers.get("Upload-Expires")).not.toBeNull();
    const url = res.headers.get("Location")!;
    const rest = await patchUpload(url, show.uploadToken, first.length, wavBytes.subarray(first.length));
    expect(rest.status).toBe(204);
    expect(sha256((await getObject(s3(), sourceKey(res.headers.get("Episode-Id")!)))!)).toBe(wav.sha256);
  });
});

describe("PATCH", () => {
  it("appends chunks of any size across part boundaries; the stored object is byte-identical", async () => {
    const { url, episodeId } = await newUpload();
    // Uneven chunks: inside a part, across one boundary, exactly to one, then the rest.
    const cuts = [0, 100, 3 * MiB + 7, PART * 2, PART * 2 + 1, wav.size];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const res = await patchUpload(url, show.uploadToken, cuts[i]!, wavBytes.subarray(cuts[i], cuts[i + 1]));
      expect(res.status, await res.clone().text()).toBe(204);
      expect(res.headers.get("Upload-Offset")).toBe(String(cuts[i + 1]));
      expect(res.headers.get("Tus-Resumable")).toBe("1.0.0");
      if (cuts[i + 1] !== wav.size) expect(Date.parse(res.headers.get("Upload-Expires")!)).toBeGreaterThan(Date.now());
    }
    expect(sha256((await getObject(s3(), sourceKey(episodeId)))!)).toBe(wav.sha256);
    // Staged tails are gone once the upload is complete.
    expect(await uploadKeys(episodeId)).toEqual([sourceKey(episodeId)]);

    const head = await headUpload(url, show.uploadToken);
    expect(head.headers.get("Upload-Offset")).toBe(String(wav.size));
    expect(head.headers.get("Upload-Expires")).toBeNull();
    // A retried final PATCH with nothing more to send is harmless.
    const again = await patchUpload(url, show.uploadToken, wav.size, null);
    expect(again.status).toBe(204);
    expect(again.headers.get("Upload-Offset")).toBe(String(wav.size));
  });

  it("415s a chunk without application/offset+octet-stream, 400s a missing Upload-Offset, 409s a wrong offset", async () => {
    const { url } = await newUpload();
    const chunk = wavBytes.subarray(0, 4096);
    const wrongType = await patchUpload(url, show.uploadToken, 0, chunk, { "Content-Type": "application/octet-stream" });
    expect(wrongType.status).toBe(415);
    expect(await errorOf(wrongType)).toContain("application/offset+octet-stream");

    const noOffset = await fetch(url, {
      method: "PATCH",
      headers: { ...TUS, ...bearer(show.uploadToken), "Content-Type": "application/offset+octet-stream" },
      body: chunk,
    });
    expect(noOffset.status).toBe(400);
    expect(await errorOf(noOffset)).toContain("Upload-Offset is required");

    expect((await patchUpload(url, show.uploadToken, 0, chunk)).status).toBe(204);
    const replay = await patchUpload(url, show.uploadToken, 0, chunk);
    expect(replay.status).toBe(409);
    expect(await errorOf(replay)).toContain("does not match the upload's offset 4096");
    expect((await headUpload(url, show.uploadToken)).headers.get("Upload-Offset")).toBe("4096");
  });

  it("413s a chunk that goes beyond Upload-Length", async () => {
    const { url } = await newUpload(5000);
    const res = await patchUpload(url, show.uploadToken, 0, wavBytes.subarray(0, 6000));
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toContain("beyond Upload-Length (5000 bytes)");
    expect((await headUpload(url, show.uploadToken)).headers.get("Upload-Offset")).toBe("0");
  });

  it("accepts POST with X-HTTP-Method-Override: PATCH", async () => {
    const { url } = await newUpload();
    const res = await fetch(url, {
      method: "POST",
      headers: {
        ...TUS,
        ...bearer(show.uploadToken),
        "X-HTTP-Method-Override": "PATCH",
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": "0",
      },
      body: wavBytes.subarray(0, 1234),
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Upload-Offset")).toBe("1234");
  });

  it("a second PATCH while one is in flight gets 423; no bytes interleave", async () => {
    const { url, episodeId } = await newUpload();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const firstBytes = wavBytes.subarray(0, 7 * MiB);
    // A chunked body that sends 6 MiB, then waits: the first PATCH holds the upload meanwhile.
    const slow = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(firstBytes.subarray(0, 6 * MiB));
        await released;
        controller.enqueue(firstBytes.subarray(6 * MiB));
        controller.close();
      },
    });
    const first = patchUpload(url, show.uploadToken, 0, slow);
    // The first PATCH holds the upload once its first part is recorded (HEAD shows it).
    for (let i = 0; i < 50 && (await headUpload(url, show.uploadToken)).headers.get("Upload-Offset") !== String(PART); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const second = await patchUpload(url, show.uploadToken, PART, wavBytes.subarray(PART, PART + MiB));
    expect(second.status).toBe(423);
    expect(await errorOf(second)).toContain("another request is writing");
    release();
    const done = await first;
    expect(done.status).toBe(204);
    expect(done.headers.get("Upload-Offset")).toBe(String(firstBytes.length));
    const rest = await patchUpload(url, show.uploadToken, firstBytes.length, wavBytes.subarray(firstBytes.length));
    expect(rest.status).toBe(204);
    expect(sha256((await getObject(s3(), sourceKey(episodeId)))!)).toBe(wav.sha256);
  });
});

describe("checksum", () => {
  it("460s a chunk whose sha1 does not match and discards it; the next correct PATCH succeeds", async () => {
    const { url, episodeId } = await newUpload();
    // First 6 MiB: a full part plus a tail, so a discarded chunk must leave both untouched.
    const a = wavBytes.subarray(0, 6 * MiB);
    expect((await patchUpload(url, show.uploadToken, 0, a, { "Upload-Checksum": checksum("sha1", a) })).status).toBe(204);

    const b = wavBytes.subarray(6 * MiB);
    const corrupted = Buffer.from(b);
    corrupted[corrupted.length >> 1]! ^= 0xff;
    const bad = await patchUpload(url, show.uploadToken, a.length, corrupted, { "Upload-Checksum": checksum("sha1", b) });
    expect(bad.status).toBe(460);
    expect(await errorOf(bad)).toContain("discarded");
    expect((await headUpload(url, show.uploadToken)).headers.get("Upload-Offset")).toBe(String(a.length));

    const good = await patchUpload(url, show.uploadToken, a.length, b, { "Upload-Checksum": checksum("sha256", b) });
    expect(good.status).toBe(204);
    expect(good.headers.get("Upload-Offset")).toBe(String(wav.size));
    expect(sha256((await getObject(s3(), sourceKey(episodeId)))!)).toBe(wav.sha256);
  });

  it("400s an unsupported algorithm or a malformed digest", async () => {
    const { url } = await newUpload();
    const chunk = wavBytes.subarray(0, 100);
    const md5 = await patchUpload(url, show.uploadToken, 0, chunk, { "Upload-Checksum": "md5 1B2M2Y8AsgTpgAmY7PhCfg==" });
    expect(md5.status).toBe(400);
    expect(await errorOf(md5)).toContain('"md5" is not supported');
    const short = await patchUpload(url, show.uploadToken, 0, chunk, { "Upload-Checksum": "sha1 AAAA" });
    expect(short.status).toBe(400);
    expect((await headUpload(url, show.uploadToken)).headers.get("Upload-Offset")).toBe("0");
  });
});

describe("creation-defer-length", () => {
  it("takes the length on a later PATCH and completes", async () => {
    const { url, episodeId } = await newUpload("deferred");
    const head = await headUpload(url, show.uploadToken);
    expect(head.headers.get("Upload-Defer-Length")).toBe("1");
    expect(head.headers.get("Upload-Length")).toBeNull();
    const split = 6 * MiB + 5;
    expect((await patchUpload(url, show.uploadToken, 0, wavBytes.subarray(0, split))).status).toBe(204);
    // tus-js-client sends the length with the chunk that reaches the end of the file.
    const last = await patchUpload(url, show.uploadToken, split, wavBytes.subarray(split), { "Upload-Length": String(wav.size) });
    expect(last.status).toBe(204);
    expect(last.headers.get("Upload-Offset")).toBe(String(wav.size));
    expect(sha256((await getObject(s3(), sourceKey(episodeId)))!)).toBe(wav.sha256);
  });

  it("413s once a deferred upload grows beyond the maximum size", async () => {
    const { url } = await newUpload("deferred");
    const res = await patchUpload(url, show.uploadToken, 0, null, { "Upload-Length": String(MAX + 1) });
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toContain(`largest upload accepted is ${MAX} bytes`);
  });
});

describe("content sniffing", () => {
  it.each(["flac", "mp3", "mp3-bare", "ogg", "m4a"] as const)("accepts %s", async (format) => {
    const file = await audio.generate(format, 2);
    const bytes = await readFile(file.path);
    const { url, episodeId } = await newUpload(bytes.length, uploadMetadata({ title: format, filename: `x.${format}` }));
    const res = await patchUpload(url, show.uploadToken, 0, bytes);
    expect(res.status, await res.clone().text()).toBe(204);
    expect(sha256((await getObject(s3(), sourceKey(episodeId)))!)).toBe(file.sha256);
  });

  it("415s content that is not audio before storing it, and releases the upload", async () => {
    // A PNG: valid bytes, wrong kind of file. 20 MiB in one PATCH: refused at its first bytes.
    const png = Buffer.alloc(20 * MiB, 7);
    Buffer.from("89504e470d0a1a0a0000000d49484452", "hex").copy(png);
    const { url, episodeId } = await newUpload(png.length, uploadMetadata({ title: "Not audio", filename: "cover.wav" }));
    const res = await patchUpload(url, show.uploadToken, 0, png).catch((err: Error) => err);
    expect(res).toBeInstanceOf(Response);
    const refused = res as Response;
    expect(refused.status).toBe(415);
    expect(await errorOf(refused)).toMatch(/not a supported audio format \(expected WAV.*FLAC.*MP3.*Ogg.*MP4/);
    const head = await headUpload(url, show.uploadToken);
    expect([404, 410]).toContain(head.status);
    expect(await uploadKeys(episodeId)).toEqual([]);
  });

  it("415s non-audio sent with the creation request too", async () => {
    const zip = Buffer.concat([Buffer.from("PK\x03\x04", "latin1"), Buffer.alloc(5000, 1)]);
    const res = await createUpload(stack.edgeUrl, show.uploadToken, { length: zip.length, body: zip });
    expect(res.status).toBe(415);
  });

  it("refuses a file too short to be audio", async () => {
    const { url } = await newUpload(8);
    const res = await patchUpload(url, show.uploadToken, 0, Buffer.from("RIFF\0\0\0\0", "latin1"));
    expect(res.status).toBe(415);
  });
});

describe("termination", () => {
  it("DELETE aborts the upload and removes its data; then HEAD and PATCH get 404/410", async () => {
    const { url, episodeId } = await newUpload();
    expect((await patchUpload(url, show.uploadToken, 0, wavBytes.subarray(0, 6 * MiB))).status).toBe(204);
    expect(await uploadKeys(episodeId)).toHaveLength(1);

    const del = await deleteUpload(url, show.uploadToken);
    expect(del.status).toBe(204);
    expect(del.headers.get("Tus-Resumable")).toBe("1.0.0");
    expect([404, 410]).toContain((await headUpload(url, show.uploadToken)).status);
    expect([404, 410]).toContain((await patchUpload(url, show.uploadToken, 6 * MiB, wavBytes.subarray(6 * MiB))).status);
    expect(await uploadKeys(episodeId)).toEqual([]);
  });

  it("refuses to terminate a completed upload (its episode is being processed)", async () => {
    const small = await audio.generate("mp3", 2);
    const bytes = await readFile(small.path);
    const res = await createUpload(stack.edgeUrl, show.uploadToken, { length: bytes.length, body: bytes });
    expect(res.status).toBe(201);
    const del = await deleteUpload(res.headers.get("Location")!, show.uploadToken);
    expect(del.status).toBe(409);
    expect(await getObject(s3(), sourceKey(res.headers.get("Episode-Id")!))).toBeDefined();
  });
});

it("answers GET on an upload URL with 405 (not part of tus)", async () => {
  const { url } = await newUpload();
  const res = await fetch(url, { headers: { ...TUS, ...bearer(show.uploadToken) } });
  expect(res.status).toBe(405);
});
