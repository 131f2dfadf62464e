// Managing a show after its creation, in workerd under wrangler dev: PATCH of
// every field (and the feed after each change, through the four parsers and
// the schema), validation naming the field, artwork fetched from a real local
// server and checked, listing shows, token rotation, and who may do what.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../shared/storage-keys.ts";
import { getObject, localS3 } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { makeImage, serveFiles, type FileServer } from "../support/images.ts";
import { createUpload, uploadMetadata } from "../support/tus.ts";
import { checkFeed } from "../feed/validators.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let art: FileServer;
let show: CreatedPodcast;
let other: CreatedPodcast;

beforeAll(async () => {
  const [jpeg1400, png3000, small, wide, grey, palette] = await Promise.all([
    makeImage("jpeg", 1400, 1400),
    makeImage("png", 3000, 3000),
    makeImage("jpeg", 1000, 1000),
    makeImage("png", 1600, 1400),
    makeImage("png", 1400, 1400, "gray"),
    makeImage("png", 1400, 1400, "pal8"),
  ]);
  art = await serveFiles({
    "/cover.jpg": { body: jpeg1400, type: "image/jpeg" },
    "/cover.png": { body: png3000, type: "image/png" },
    "/small.jpg": { body: small, type: "image/jpeg" },
    "/wide.png": { body: wide, type: "image/png" },
    "/grey.png": { body: grey, type: "image/png" },
    "/palette.png": { body: palette, type: "image/png" },
    "/page.html": { body: "<html>not an image</html>", type: "text/html" },
  });
  stack = await startTestStack();
  show = await createPodcast(stack, { artworkUrl: art.url("/cover.jpg"), link: "https://show.example/", ownerEmail: "host@show.example" });
  other = await createPodcast(stack, { title: "Another show" });
}, 120_000);
afterAll(async () => {
  await stack?.cleanup();
  await art?.close();
});

const call = (method: string, path: string, token: string | null, body?: unknown) =>
  fetch(`${stack.edgeUrl}${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
const feedOf = async (id: string) => {
  const res = await fetch(`${stack.edgeUrl}/feeds/${id}.xml`);
  expect(res.status).toBe(200);
  return res.text();
};

describe("a new show", () => {
  it("has a feed from its creation, before any episode, accepted by the parsers and the schema", async () => {
    const checked = await checkFeed(await feedOf(show.podcastId), { episodes: 0 });
    expect(checked.partytime.title).toBe("The Test Show");
    expect(checked.partytime.link).toBe("https://show.example/");
    expect(checked.partytime.itunesImage).toBe(art.url("/cover.jpg"));
  });

  it("records what the artwork check found, and warns about what Apple and PSP-1 still need", async () => {
    const record = JSON.parse(new TextDecoder().decode(await getObject(localS3(stack), keys.podcast(show.podcastId))));
    expect(record.artwork).toEqual({ width: 1400, height: 1400, format: "jpeg" });
    const res = await call("GET", `/podcasts/${other.podcastId}`, stack.adminToken);
    const body = (await res.json()) as { warnings: string[] };
    expect(body.warnings.join("\n")).toMatch(/artworkUrl is not set[\s\S]*link is not set[\s\S]*ownerEmail is not set/);
    // No website: no <link> at all, rather than the feed's own URL.
    expect(await feedOf(other.podcastId)).not.toMatch(/<link>/);
  });
});

describe("PATCH /podcasts/:id", () => {
  it("changes every field, each visible in the feed as the parsers read it", async () => {
    const res = await call("PATCH", `/podcasts/${show.podcastId}`, show.uploadToken, {
      title: "Renamed Show",
      author: "New Author",
      description: "é".repeat(2000), // 4000 bytes: exactly the limit
      language: "pt-br",
      categories: ["Society & Culture > Documentary", "Technology", "News > Tech News"],
      explicit: true,
      artworkUrl: art.url("/cover.png"),
      link: "https://renamed.example/",
      type: "serial",
      locked: true,
      copyright: "© 2026 New Author",
      complete: true,
      funding: [{ url: "https://renamed.example/support", text: "Support us" }],
      newFeedUrl: "https://moved.example/feed.xml",
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      language: "pt-BR",
      category: "Society & Culture > Documentary",
      artwork: { width: 3000, height: 3000, format: "png" },
    });

    const f = (await checkFeed(await feedOf(show.podcastId))).partytime;
    expect(f.title).toBe("Renamed Show");
    expect(f.author).toBe("New Author");
    expect(f.description).toBe("é".repeat(2000));
    expect(f.language).toBe("pt-BR");
    expect(f.itunesCategory).toEqual(["Society & Culture > Documentary", "Technology", "News > Tech News"]);
    expect(f.explicit).toBe(true);
    expect(f.itunesImage).toBe(art.url("/cover.png"));
    expect(f.link).toBe("https://renamed.example/");
    expect(f.itunesType).toBe("serial");
    expect(f.locked).toBe(true);
    expect(f.copyright).toBe("© 2026 New Author");
    expect(f.itunesComplete).toBe(true);
    expect(f.podcastFunding).toEqual([expect.objectContaining({ url: "https://renamed.example/support", message: "Support us" })]);
    expect(f.itunesNewFeedUrl).toBe("https://moved.example/feed.xml");
  });

  it("clears optional fields with null and resets defaults", async () => {
    const res = await call("PATCH", `/podcasts/${show.podcastId}`, stack.adminToken, {
      newFeedUrl: null,
      complete: null,
      locked: false,
      type: null,
      funding: null,
      copyright: null,
    });
    expect(res.status).toBe(200);
    const xml = await feedOf(show.podcastId);
    const f = (await checkFeed(xml)).partytime;
    expect(f.itunesNewFeedUrl).toBeUndefined();
    expect(f.itunesComplete).toBe(false);
    expect(f.locked).toBe(false);
    expect(f.itunesType).toBe("episodic");
    expect(xml).not.toContain("podcast:funding");
    expect(xml).not.toContain("<copyright>");
  });

  it.each([
    [{ category: "Made Up Stuff" }, 'category "Made Up Stuff" is not an Apple Podcasts category'],
    [{ category: "technology" }, 'did you mean "Technology"?'],
    [{ category: "Technology > Gadgets" }, "Technology has no subcategories"],
    [{ categories: ["Arts", "Comedy", "News", "History"] }, "categories may list at most 3 categories"],
    [{ categories: ["Arts", "Sports > Cricket", 7] }, "categories[2] must be a string"],
    [{ language: "zz" }, "language must be a BCP 47 tag with an ISO 639-1 language"],
    [{ language: "english" }, "language must be a BCP 47 tag"],
    [{ description: "é".repeat(2001) }, "description must be at most 4000 bytes"],
    [{ title: null }, "title is required and cannot be cleared"],
    [{ type: "weekly" }, "type must be episodic or serial"],
    [{ locked: "yes" }, "locked must be true or false"],
    [{ complete: 1 }, "complete must be true or false"],
    [{ funding: [{ url: "ftp://x.example", text: "Give" }] }, "funding[0].url must be an http(s) URL"],
    [{ funding: [{ url: "https://x.example", text: "x".repeat(129) }] }, "funding[0].text must be at most 128 characters"],
    [{ newFeedUrl: "moved" }, "newFeedUrl must be an http(s) URL"],
    [{ link: "javascript:alert(1)" }, "link must be an http(s) URL"],
    [{ uploadTokenSha256: "0".repeat(64) }, "uploadTokenSha256 is not a field of a show"],
    [{ artworkUrl: "ART/small.jpg" }, "artworkUrl must be 1400-3000 px square; it is 1000x1000 px"],
    [{ artworkUrl: "ART/wide.png" }, "artworkUrl must be square; it is 1600x1400 px"],
    [{ artworkUrl: "ART/grey.png" }, "artworkUrl must be in the RGB colour space; this PNG is greyscale"],
    [{ artworkUrl: "ART/palette.png" }, "artworkUrl must be in the RGB colour space; this PNG is palette"],
    [{ artworkUrl: "ART/page.html" }, "artworkUrl is not a JPEG or PNG image"],
    [{ artworkUrl: "ART/missing.jpg" }, "artworkUrl could not be fetched: HTTP 404"],
    ["{not json", "body must be JSON"],
  ])("400s %j naming the field, and changes nothing", async (patch, message) => {
    const before = await getObject(localS3(stack), keys.podcast(show.podcastId));
    const body = typeof patch === "string" ? patch : JSON.parse(JSON.stringify(patch).replace(/ART\//g, art.url("/")));
    const res = await call("PATCH", `/podcasts/${show.podcastId}`, show.uploadToken, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(message);
    expect(await getObject(localS3(stack), keys.podcast(show.podcastId))).toEqual(before);
  });

  it("is allowed to the admin and the show's own token only; another show's token gets 404", async () => {
    expect((await call("PATCH", `/podcasts/${show.podcastId}`, null, { title: "x" })).status).toBe(401);
    expect((await call("PATCH", `/podcasts/${show.podcastId}`, "pp_nope_aaaaaaaaaaaaaaaaaaaaaaaa", { title: "x" })).status).toBe(403);
    const foreign = await call("PATCH", `/podcasts/${show.podcastId}`, other.uploadToken, { title: "Hijacked" });
    expect(foreign.status).toBe(404);
    expect(await call("GET", `/podcasts/${show.podcastId}`, other.uploadToken).then((r) => r.status)).toBe(404);
    expect(await call("GET", `/podcasts/00000000-0000-4000-8000-000000000000`, stack.adminToken).then((r) => r.status)).toBe(404);
    expect((await call("PATCH", `/podcasts/${show.podcastId}`, stack.adminToken, { title: "By the admin" })).status).toBe(200);
    expect((await checkFeed(await feedOf(show.podcastId))).partytime.title).toBe("By the admin");
  });
});

describe("GET /podcasts (admin)", () => {
  it("lists every show a page at a time, without secrets", async () => {
    const extra = await createPodcast(stack, { title: "Third show" });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await call("GET", `/podcasts?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, stack.adminToken);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { podcasts: Record<string, unknown>[]; nextCursor?: string };
      expect(page.podcasts.length).toBeLessThanOrEqual(2);
      for (const p of page.podcasts) {
        expect(p).not.toHaveProperty("uploadTokenSha256");
        expect(p.feedUrl).toBe(`${stack.edgeUrl}/feeds/${p.podcastId}.xml`);
        seen.push(p.podcastId as string);
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(seen.sort()).toEqual([show.podcastId, other.podcastId, extra.podcastId].sort());
  });

  it("is the admin's only", async () => {
    expect((await call("GET", "/podcasts", show.uploadToken)).status).toBe(403);
    expect((await call("GET", "/podcasts", null)).status).toBe(401);
    expect((await call("GET", "/podcasts?limit=0", stack.adminToken)).status).toBe(400);
  });
});

describe("POST /podcasts/:id/token", () => {
  it("issues a new upload token; the old one stops working at once", async () => {
    const shown = await call("POST", `/podcasts/${other.podcastId}/token`, show.uploadToken);
    expect(shown.status).toBe(404);
    const res = await call("POST", `/podcasts/${other.podcastId}/token`, other.uploadToken);
    expect(res.status).toBe(200);
    const { uploadToken } = (await res.json()) as { uploadToken: string };
    expect(uploadToken).not.toBe(other.uploadToken);
    expect(uploadToken.startsWith(`pp_${other.podcastId}_`)).toBe(true);

    expect((await call("GET", `/podcasts/${other.podcastId}`, other.uploadToken)).status).toBe(403);
    const oldUpload = await createUpload(stack.edgeUrl, other.uploadToken, {
      length: 100,
      metadata: uploadMetadata({ title: "T", filename: "t.wav" }),
    });
    expect(oldUpload.status).toBe(403);
    expect((await call("GET", `/podcasts/${other.podcastId}`, uploadToken)).status).toBe(200);
    const newUpload = await createUpload(stack.edgeUrl, uploadToken, {
      length: 100,
      metadata: uploadMetadata({ title: "T", filename: "t.wav" }),
    });
    expect(newUpload.status).toBe(201);
    const stored = new TextDecoder().decode(await getObject(localS3(stack), keys.podcast(other.podcastId)));
    expect(stored).not.toContain(uploadToken.slice(`pp_${other.podcastId}_`.length));
  });
});
