// A web player on another origin, in Debian's headless Chromium: a page served
// by a local server on its own port fetches the feed, chapters.json and
// waveform.json from the edge (workerd under wrangler dev) and plays and seeks
// the MP3 in <audio crossorigin>, which only works with CORS on ranged media.
// The edge allows exactly the player's origin (DELIVERY_ORIGINS); a page on a
// third origin is refused. The episode is a stand-in (test/support/stand-in.ts)
// with a real MP3 made by ffmpeg: the processor is not what is tested here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { keys } from "../../shared/storage-keys.ts";
import { localS3, putObject } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { serveFiles, type FileServer } from "../support/images.ts";
import { publishStandIn } from "../support/stand-in.ts";

const CHROMIUM = "/usr/bin/chromium";
const PAGE = `<!doctype html><html><body><audio id="player" crossorigin="anonymous" preload="auto"></audio></body></html>`;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let player: FileServer;
let stranger: FileServer;
let browser: Browser;
let page: Page;
let show: CreatedPodcast;
let episodeId: string;
let workDir: string;
const mediaRequests: { range: string | null; status: number }[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  workDir = await mkdtemp(path.join(tmpdir(), "cors-"));
  const mp3 = path.join(workDir, "tone.mp3");
  execFileSync("ffmpeg", [
    "-nostdin",
    "-v",
    "error",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=330:duration=8",
    "-ac",
    "2",
    "-ar",
    "44100",
    "-c:a",
    "libmp3lame",
    "-b:a",
    "128k",
    mp3,
  ]);
  const { readFileSync } = await import("node:fs");
  player = await serveFiles({ "/player.html": { body: PAGE, type: "text/html" } });
  stranger = await serveFiles({ "/player.html": { body: PAGE, type: "text/html" } });
  const playerOrigin = new URL(player.url("/")).origin;
  stack = await startTestStack({ edgeVars: { DELIVERY_ORIGINS: playerOrigin } });
  show = await createPodcast(stack, { title: "Cross-origin show" });
  const episode = await publishStandIn(stack, { podcastId: show.podcastId, title: "Playable", mp3: readFileSync(mp3), durationSeconds: 8 });
  episodeId = episode.episodeId;
  const chapters = await fetch(`${stack.edgeUrl}/episodes/${episodeId}/chapters`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${show.uploadToken}`, "Content-Type": "application/json+chapters" },
    body: JSON.stringify({
      version: "1.2.0",
      chapters: [
        { startTime: 0, title: "Start" },
        { startTime: 4, title: "Middle" },
      ],
    }),
  });
  if (chapters.status !== 200) throw new Error(`chapters: ${chapters.status} ${await chapters.text()}`);
  const waveform = {
    version: 2,
    channels: 1,
    sample_rate: 8000,
    samples_per_pixel: 800,
    bits: 8,
    length: 3,
    data: [-10, 10, -20, 20, -5, 5],
  };
  await putObject(
    localS3(stack),
    keys.media(show.podcastId, episodeId, "waveform.json"),
    JSON.stringify(waveform),
    "application/json",
    "public, max-age=31536000, immutable",
  );

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--autoplay-policy=no-user-gesture-required",
      "--mute-audio",
    ],
  });
  page = await browser.newPage();
  page.on("response", (res) => {
    if (res.url().endsWith("/audio-128k.mp3")) mediaRequests.push({ range: res.request().headers().range ?? null, status: res.status() });
  });
  await page.goto(player.url("/player.html"));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.cleanup();
  await player?.close();
  await stranger?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const media = (file: string) => `${stack.edgeUrl}/media/${show.podcastId}/${episodeId}/${file}`;

describe("a web player on another origin", () => {
  it("fetches the feed, the chapters and the waveform", async () => {
    // In-page code as a string: it runs in Chromium, not under this file's (Node) types.
    const urls = {
      feed: `${stack.edgeUrl}/feeds/${show.podcastId}.xml`,
      chapters: media("chapters.json"),
      waveform: media("waveform.json"),
    };
    const read = (await page.evaluate(`(async ({ feed, chapters, waveform }) => {
      const feedRes = await fetch(feed, { headers: { "If-None-Match": '"not-this"' } });
      const chaptersRes = await fetch(chapters);
      const waveformRes = await fetch(waveform, { headers: { Range: "bytes=0-" } });
      return {
        origin: location.origin,
        feed: { status: feedRes.status, etag: feedRes.headers.get("etag"), text: await feedRes.text() },
        chapters: await chaptersRes.json(),
        waveform: { status: waveformRes.status, range: waveformRes.headers.get("content-range"), body: await waveformRes.json() },
      };
    })(${JSON.stringify(urls)})`)) as {
      origin: string;
      feed: { status: number; etag: string; text: string };
      chapters: { chapters: { title: string }[] };
      waveform: { status: number; range: string; body: { samples_per_pixel: number } };
    };
    expect(read.origin).not.toBe(new URL(stack.edgeUrl).origin);
    expect(read.feed.status).toBe(200);
    expect(read.feed.etag).toMatch(/^"/);
    expect(read.feed.text).toContain("<title>Playable</title>");
    expect(read.chapters.chapters.map((c) => c.title)).toEqual(["Start", "Middle"]);
    expect(read.waveform.status).toBe(206);
    expect(read.waveform.range).toMatch(/^bytes 0-\d+\/\d+$/);
    expect(read.waveform.body.samples_per_pixel).toBe(800);
  });

  it("plays and seeks the MP3 in <audio crossorigin>", async () => {
    const result = (await page.evaluate(`(async (src) => {
      const audio = document.getElementById("player");
      const when = (event) =>
        new Promise((resolve, reject) => {
          audio.addEventListener(event, () => resolve(), { once: true });
          audio.addEventListener("error", () => reject(new Error("media error " + audio.error?.code + ": " + audio.error?.message)), { once: true });
        });
      audio.src = src;
      const playing = when("playing");
      await audio.play();
      await playing;
      await new Promise((r) => setTimeout(r, 300));
      const seeked = when("seeked");
      audio.currentTime = 6;
      await seeked;
      await new Promise((r) => setTimeout(r, 300));
      return { duration: audio.duration, currentTime: audio.currentTime, paused: audio.paused, error: audio.error?.code ?? null };
    })(${JSON.stringify(media("audio-128k.mp3"))})`)) as { duration: number; currentTime: number; paused: boolean; error: number | null };
    expect(result.error).toBeNull();
    expect(result.duration).toBeGreaterThan(7.5);
    expect(result.currentTime).toBeGreaterThanOrEqual(6);
    expect(result.paused).toBe(false);
    // Chromium fetched the media in ranges, and the edge answered them.
    expect(mediaRequests.some((r) => r.range !== null && r.status === 206)).toBe(true);
  }, 30_000);

  it("reads the status API with the upload token (a preflighted request)", async () => {
    const status = (await page.evaluate(
      `fetch(${JSON.stringify(`${stack.edgeUrl}/episodes/${episodeId}`)}, { headers: { Authorization: ${JSON.stringify(`Bearer ${show.uploadToken}`)} } }).then(async (r) => ({ status: r.status, body: await r.json() }))`,
    )) as { status: number; body: { state: string; feed: string } };
    expect(status).toMatchObject({ status: 200, body: { state: "published", feed: "listed" } });
  });

  it("is refused on an origin DELIVERY_ORIGINS does not list", async () => {
    const other = await browser.newPage();
    try {
      await other.goto(stranger.url("/player.html"));
      const outcome = await other.evaluate(
        `fetch(${JSON.stringify(`${stack.edgeUrl}/feeds/${show.podcastId}.xml`)}).then(() => "read", (err) => "refused: " + err.name)`,
      );
      expect(outcome).toBe("refused: TypeError");
    } finally {
      await other.close();
    }
  });
});
