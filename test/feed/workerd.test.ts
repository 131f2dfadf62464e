/**
 * The feed writer must also run at the edge: render the same input in workerd
 * (a bare Worker under wrangler, test/feed/fixtures) and in Node, and require
 * byte-identical output.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unstable_startWorker } from "wrangler";
import { renderChaptersJson } from "../../shared/feed/chapters.ts";
import { renderFeed } from "../../shared/feed/rss.ts";
import { BASE_URL, episode, podcast } from "./fixtures/feed-fixtures.ts";

let worker: Awaited<ReturnType<typeof unstable_startWorker>>;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "feed-workerd-"));
  worker = await unstable_startWorker({
    config: fileURLToPath(new URL("fixtures/wrangler.toml", import.meta.url)),
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist: dataDir, logLevel: "warn" },
  });
  await worker.ready;
});

afterAll(async () => {
  await worker?.dispose();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  // wrangler bundles into .wrangler/tmp beside the config; it is gitignored, but leave nothing behind.
  await rm(fileURLToPath(new URL("fixtures/.wrangler", import.meta.url)), { recursive: true, force: true });
});

it("renders the same feed and chapters bytes in workerd as in Node", async () => {
  const now = "2025-11-10T12:00:00.000Z";
  const feed = {
    podcast: podcast({ title: `Show <&> "ünï" 🎙️\u0001`, category: "Arts > Books" }),
    episodes: [
      episode("ep-1", { publishedAt: "2025-11-01T00:00:00.000Z" }),
      episode("ep-2", {
        chapters: { url: "https://cdn.example.com/media/show-1/ep-2/chapters.json", count: 2 },
        season: 1,
        episodeNumber: 2,
      }),
    ],
    publicBaseUrl: BASE_URL,
    now,
  };
  const chapters = [
    { startTime: 30.5, title: "Talk & <more>" },
    { startTime: 0, title: "Intro", url: "https://example.com/" },
  ];
  const response = await fetch(await worker.url, { method: "POST", body: JSON.stringify({ feed, chapters }) });
  expect(response.status).toBe(200);
  const fromWorkerd = (await response.json()) as { feed: string; chapters: string };

  expect(fromWorkerd.feed).toBe(renderFeed({ ...feed, now: new Date(now) }));
  expect(fromWorkerd.chapters).toBe(renderChaptersJson(chapters));
  expect(fromWorkerd.feed).toContain("<podcast:guid>769aae39-978a-5965-951c-7585a4418bbd</podcast:guid>");
});
