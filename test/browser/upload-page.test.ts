// The upload page served by the edge (GET /upload), driven in Debian's headless Chromium: a person's path
// from token + title + file to a stored source object whose bytes match, with progress shown on the way.
// Real parts throughout: workerd under wrangler dev, tus-js-client's browser build, the local R2 bucket, and
// the processor (a 24-second file takes it a few seconds), so the page follows the episode until published.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { keys } from "../../shared/storage-keys.ts";
import { AudioDir, wavSecondsFor, type AudioFile } from "../support/audio.ts";
import { getObject, localS3, sha256 } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = "/tmp/upload-page.png";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let podcast: CreatedPodcast;
let audio: AudioDir;
let wav: AudioFile;
let profileDir: string;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const foreignRequests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  audio = await AudioDir.create();
  [stack, wav, profileDir] = await Promise.all([
    startTestStack({ processor: true }),
    audio.generate("wav", wavSecondsFor(4 * 1024 * 1024)),
    mkdtemp(path.join(tmpdir(), "chromium-profile-")),
  ]);
  podcast = await createPodcast(stack);
  // A fresh profile per run: no resumable-upload fingerprints or caches from an earlier run.
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 900, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.on("console", (msg) => {
    // Failed loads are reported below with their URL.
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) pageErrors.push(msg.text());
  });
  page.on("response", (res) => {
    if (res.status() >= 400) pageErrors.push(`${res.status()} ${res.url()}`);
  });
  page.on("request", (req) => {
    if (!req.url().startsWith(stack.edgeUrl)) foreignRequests.push(req.url());
  });
});

afterAll(async () => {
  await context?.close();
  await stack?.cleanup();
  await audio?.cleanup();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

describe("upload page", () => {
  it("is served by the edge with a same-origin-only content security policy", async () => {
    const res = await fetch(`${stack.edgeUrl}/upload`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
    const html = await res.text();
    // Nothing is loaded from elsewhere: every src/href is a path on this origin.
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    for (const ref of refs) expect(ref).toMatch(/^\/upload\//);
    const tus = await fetch(`${stack.edgeUrl}/upload/tus.min.js`);
    expect(tus.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await tus.text()).toContain("tus");
  });

  it("uploads a WAV file chosen in the form, shows progress to 100%, the episode id and its state", async () => {
    await page.goto(`${stack.edgeUrl}/upload`);
    await expect.poll(() => page.evaluate(() => typeof (globalThis as { tus?: unknown }).tus)).toBe("object");

    await page.getByLabel("Upload token").fill(podcast.uploadToken);
    await page.getByLabel("Episode title").fill("Recorded in the browser");
    // The show the token belongs to, named as soon as the token is entered.
    await page.getByLabel("Show notes").click();
    await expect.poll(() => page.locator("#show").textContent()).toBe("Uploads to The Test Show");
    await page.getByLabel("Show notes").fill("Notes for the browser episode.");
    await page.getByLabel(/Audio file/).setInputFiles(wav.path);
    // Checked in the browser before anything is sent; the figures stay up while it uploads.
    await expect.poll(() => page.locator("#check-status").getAttribute("data-state"), { timeout: 60_000 }).toBe("accepted");
    expect(await page.locator("#fig-codec").textContent()).toMatch(/^pcm_s16le/);
    expect(await page.locator("#fig-sample-rate").textContent()).toBe("44100 Hz");
    expect(await page.locator("#fig-channels").textContent()).toMatch(/^2/);
    await page.getByRole("button", { name: "Upload" }).click();

    // The episode id appears once the upload is created, before the bytes are all sent.
    const idText = page.locator("#episode-id");
    await expect.poll(() => idText.textContent(), { timeout: 30_000 }).toMatch(/^[0-9a-f-]{36}$/);
    const episodeId = (await idText.textContent())!;

    await expect.poll(() => page.locator("#episode-state").getAttribute("data-state"), { timeout: 60_000 }).toBe("published");
    expect(await page.locator("#percent").textContent()).toBe("100%");
    expect(await page.locator("#progress").evaluate((el) => (el as unknown as { value: number }).value)).toBe(100);
    expect(await page.locator("#bytes").textContent()).toContain(`of ${(wav.size / 1e6).toFixed(1)} MB`);
    expect(await page.locator("#rate").textContent()).toMatch(/^at \d+(\.\d)? MB\/s$/);
    expect(await page.locator("#episode-state").textContent()).toBe("published");
    expect(await page.locator("#upload-error").textContent()).toBe("");

    // The token never reached the address bar, and the page loaded nothing from elsewhere.
    expect(page.url()).toBe(`${stack.edgeUrl}/upload`);
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // What the creator chose is byte for byte what the edge stored.
    const stored = await getObject(localS3(stack), keys.source(podcast.podcastId, episodeId));
    expect(stored?.length).toBe(wav.size);
    expect(sha256(stored!)).toBe(wav.sha256);

    const res = await fetch(`${stack.edgeUrl}/episodes/${episodeId}`, { headers: { Authorization: `Bearer ${podcast.uploadToken}` } });
    const episode = (await res.json()) as { renditions: { id: string; url: string }[] };
    expect(episode).toMatchObject({ state: "published", title: "Recorded in the browser", filename: path.basename(wav.path) });
    const record = JSON.parse(new TextDecoder().decode(await getObject(localS3(stack), keys.episode(episodeId))));
    expect(record.description).toBe("Notes for the browser episode.");

    // Links to the episode's audio (the feed's MP3 enclosure) and the feed; both answer.
    expect(await page.locator("#check").isVisible()).toBe(true);
    const audioHref = await page.getByRole("link", { name: "listen to the episode" }).getAttribute("href");
    expect(audioHref).toBe(episode.renditions.find((r) => r.id === "mp3_128k")!.url);
    const feedHref = await page.getByRole("link", { name: "the podcast's feed" }).getAttribute("href");
    expect(feedHref).toBe(podcast.feedUrl);
    for (const href of [audioHref!, feedHref!]) expect((await fetch(href, { method: "HEAD" })).status).toBe(200);

    // "Upload another": a clean form for the same show.
    await page.getByRole("button", { name: "Upload another episode" }).click();
    expect(await page.getByLabel("Episode title").inputValue()).toBe("");
    expect(await page.getByLabel("Show notes").inputValue()).toBe("");
    expect(await page.locator("#progress-section").isHidden()).toBe(true);
    expect(await page.locator("#check").isHidden()).toBe(true);
    expect(await page.getByLabel("Upload token").inputValue()).toBe(podcast.uploadToken);
  });

  it("resumes an interrupted upload when the same file is chosen again after a reload", async () => {
    // Processing is not the point here: the processor is stopped, so the episode stays "queued".
    await stack.stopProcessor();
    const big = await audio.generate("wav", wavSecondsFor(80 * 1024 * 1024));
    await page.goto(`${stack.edgeUrl}/upload`);
    await page.getByLabel("Episode title").fill("Interrupted");
    await page.getByLabel(/Audio file/).setInputFiles(big.path);
    await page.getByRole("button", { name: "Upload" }).click();
    const idText = page.locator("#episode-id");
    await expect.poll(() => idText.textContent(), { timeout: 30_000 }).toMatch(/^[0-9a-f-]{36}$/);
    const episodeId = (await idText.textContent())!;

    // Leave the page once some parts are stored (the upload's progress as the edge reports it).
    const auth = { Authorization: `Bearer ${podcast.uploadToken}` };
    await expect
      .poll(
        async () => {
          const e = (await (await fetch(`${stack.edgeUrl}/episodes/${episodeId}`, { headers: auth })).json()) as {
            upload?: { bytesReceived: number };
          };
          return e.upload?.bytesReceived ?? 0;
        },
        { timeout: 30_000, interval: 50 },
      )
      .toBeGreaterThan(0);
    await page.reload();

    // The token is still in this tab; the same file picks up the same upload.
    expect(await page.getByLabel("Upload token").inputValue()).toBe(podcast.uploadToken);
    await page.getByLabel("Episode title").fill("Interrupted");
    await page.getByLabel(/Audio file/).setInputFiles(big.path);
    await page.getByRole("button", { name: "Upload" }).click();
    await expect.poll(() => page.locator("#episode-state").getAttribute("data-state"), { timeout: 60_000 }).toBe("queued");
    expect(await idText.textContent()).toBe(episodeId);
    expect(await page.locator("#percent").textContent()).toBe("100%");

    const stored = await getObject(localS3(stack), keys.source(podcast.podcastId, episodeId));
    expect(stored?.length).toBe(big.size);
    expect(sha256(stored!)).toBe(big.sha256);
  });

  it("after a refused token shows the error alone: no progress, no state, no Resume, nothing created", async () => {
    const uploadRequests: string[] = [];
    const onRequest = (req: { url(): string; method(): string }) => {
      if (new URL(req.url()).pathname.startsWith("/uploads")) uploadRequests.push(`${req.method()} ${req.url()}`);
    };
    page.on("request", onRequest);
    await page.goto(`${stack.edgeUrl}/upload`);
    await page.getByLabel("Upload token").fill(`pp_${podcast.podcastId}_wrongwrongwrongwrongwrong`);
    await page.getByLabel("Episode title").fill("Should not upload");
    await page.getByLabel(/Audio file/).setInputFiles(wav.path);
    await page.getByRole("button", { name: "Upload" }).click();
    await expect
      .poll(() => page.locator("#form-error").textContent(), { timeout: 15_000 })
      .toBe("The upload token was not accepted (upload token not valid).");
    expect(await page.locator("#progress-section").isHidden()).toBe(true);
    expect(await page.locator("#pause").isHidden()).toBe(true);
    expect(await page.locator("#show").isHidden()).toBe(true);
    expect(await page.locator("#percent").isVisible()).toBe(false);
    expect(await page.getByText("State", { exact: true }).isVisible()).toBe(false);
    expect(await page.getByRole("button", { name: "Upload" }).isEnabled()).toBe(true);
    page.off("request", onRequest);
    expect(uploadRequests).toEqual([]);
  });

  it("asks for what is missing instead of uploading", async () => {
    await page.goto(`${stack.edgeUrl}/upload`);
    await page.evaluate(() => (globalThis as unknown as { sessionStorage: { clear(): void } }).sessionStorage.clear());
    await page.reload();
    await page.getByRole("button", { name: "Upload" }).click();
    expect(await page.getByRole("alert").first().textContent()).toBe("Enter the podcast's upload token.");
    expect(await page.locator("#progress-section").isHidden()).toBe(true);
  });
});
