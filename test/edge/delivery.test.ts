// Feeds and media served by the edge Worker (workerd under wrangler dev) from
// the local R2 bucket, written there through the S3 endpoint as the processor does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../shared/storage-keys.ts";
import { localS3, putObject } from "../support/s3.ts";
import { startTestStack } from "../support/stack.ts";

const podcastId = "3f1c2d9e-0000-4000-8000-000000000001";
const episodeId = "9a8b7c6d-0000-4000-8000-000000000002";
// 256 KiB of distinct bytes so any off-by-one in a range shows.
const media = new Uint8Array(256 * 1024).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
const feedXml = `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>`;

let stack: Awaited<ReturnType<typeof startTestStack>>;
const url = (p: string) => `${stack.edgeUrl}${p}`;
const mediaPath = `/media/${podcastId}/${episodeId}/audio-128k.mp3`;

beforeAll(async () => {
  stack = await startTestStack();
  const s3 = localS3(stack);
  await putObject(s3, keys.media(podcastId, episodeId, "audio-128k.mp3"), media, "audio/mpeg", "public, max-age=86400");
  await putObject(s3, keys.feed(podcastId), feedXml, "application/rss+xml; charset=utf-8", "public, max-age=60");
  await putObject(s3, keys.episode(episodeId), JSON.stringify({ secret: "not public" }), "application/json");
});
afterAll(() => stack?.cleanup());

describe("media delivery", () => {
  it("serves the whole object with its type, length, ETag and cache policy", async () => {
    const res = await fetch(url(mediaPath));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect(res.headers.get("content-length")).toBe(String(media.length));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("cache-control")).toBe("public, max-age=86400");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]+"$/);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(media);
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    const res = await fetch(url(mediaPath), { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(media.length));
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it.each([
    ["bytes=0-0", 0, 1],
    ["bytes=1000-1999", 1000, 1000],
    ["bytes=262000-", 262000, media.length - 262000],
    ["bytes=-500", media.length - 500, 500],
    ["bytes=262000-999999", 262000, media.length - 262000],
  ])("serves Range %s as 206 with the exact bytes", async (range, offset, length) => {
    const res = await fetch(url(mediaPath), { headers: { Range: range } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${offset}-${offset + length - 1}/${media.length}`);
    expect(res.headers.get("content-length")).toBe(String(length));
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(media.slice(offset, offset + length));
  });

  it("answers an unsatisfiable range with 416 and the size", async () => {
    const res = await fetch(url(mediaPath), { headers: { Range: `bytes=${media.length}-` } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${media.length}`);
  });

  it("answers If-None-Match with 304, and ignores a stale If-Range", async () => {
    const etag = (await fetch(url(mediaPath), { method: "HEAD" })).headers.get("etag")!;
    const notModified = await fetch(url(mediaPath), { headers: { "If-None-Match": etag } });
    expect(notModified.status).toBe(304);
    const stale = await fetch(url(mediaPath), { headers: { Range: "bytes=0-9", "If-Range": '"stale"' } });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(media.length);
  });

  it("answers If-Modified-Since with 304 when unchanged, 200 when older; If-None-Match wins", async () => {
    const lastModified = (await fetch(url(mediaPath), { method: "HEAD" })).headers.get("last-modified")!;
    expect((await fetch(url(mediaPath), { headers: { "If-Modified-Since": lastModified } })).status).toBe(304);
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    const changed = await fetch(url(mediaPath), { headers: { "If-Modified-Since": earlier } });
    expect(changed.status).toBe(200);
    expect((await changed.arrayBuffer()).byteLength).toBe(media.length);
    const mismatch = await fetch(url(mediaPath), { headers: { "If-Modified-Since": lastModified, "If-None-Match": '"other"' } });
    expect(mismatch.status).toBe(200);
    await mismatch.body?.cancel();
  });

  it("404s unknown objects and never reaches outside public/", async () => {
    expect((await fetch(url(`/media/${podcastId}/${episodeId}/nope.mp3`))).status).toBe(404);
    for (const p of [
      `/media/${podcastId}/${episodeId}/..%2F..%2F..%2Fstate%2Fepisodes%2F${episodeId}.json`,
      `/media/..%2Fstate/episodes/${episodeId}.json`,
      `/feeds/..%2Fstate%2Fepisodes%2F${episodeId}.xml`,
    ]) {
      const res = await fetch(url(p));
      expect(res.status, p).toBe(404);
      expect(await res.text()).not.toContain("not public");
    }
  });
});

describe("CORS (web players on other origins)", () => {
  const origin = "https://player.example";

  it("answers a preflight for a ranged, conditional GET of media and feeds", async () => {
    for (const p of [mediaPath, `/feeds/${podcastId}.xml`]) {
      const res = await fetch(url(p), {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range, if-none-match" },
      });
      expect(res.status, p).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-allow-methods")).toContain("GET");
      expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toMatch(/range.*if-none-match/);
    }
  });

  it("lets the page read ranges, lengths and ETags", async () => {
    const res = await fetch(url(mediaPath), { headers: { Origin: origin, Range: "bytes=0-9" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = res.headers.get("access-control-expose-headers")!.split(/,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(["Content-Range", "Content-Length", "Accept-Ranges", "ETag"]));
    await res.body?.cancel();
    const feed = await fetch(url(`/feeds/${podcastId}.xml`), { headers: { Origin: origin } });
    expect(feed.headers.get("access-control-allow-origin")).toBe("*");
    await feed.body?.cancel();
  });
});

describe("feed delivery", () => {
  it("serves the feed as RSS", async () => {
    const res = await fetch(url(`/feeds/${podcastId}.xml`));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/rss+xml; charset=utf-8");
    expect(await res.text()).toBe(feedXml);
  });

  it("404s a podcast without a feed", async () => {
    expect((await fetch(url(`/feeds/00000000-0000-4000-8000-00000000abcd.xml`))).status).toBe(404);
  });
});
