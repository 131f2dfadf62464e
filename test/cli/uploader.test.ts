// The creator's terminal uploader (`npx podcast-pipeline`), run as a creator runs it: in a real terminal
// (tmux: what the pane shows is what a person sees), against the local stack (workerd under wrangler dev,
// the processor with native ffmpeg). The only stand-in is a slow uplink (a throttling TCP proxy), so a
// 40 MB upload lasts long enough to watch and to interrupt halfway with Ctrl-C.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { keys } from "../../shared/storage-keys.ts";
import { freePort, ROOT } from "../../local/stack.ts";
import { AudioDir, type AudioFile } from "../support/audio.ts";
import { getEpisode } from "../support/episode-flow.ts";
import { getObject, localS3, sha256 } from "../support/s3.ts";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { startSlowNetwork, type SlowNetwork } from "./slow-network.ts";

const BIN = path.join(ROOT, "node_modules", ".bin");
/**
 * The creator's shell: Node 22 first (wrangler's Node, as a creator would have it), then the system's
 * PATH without node_modules/.bin, whose old npx (npm 6, brought in by a feed parser) cannot run a
 * project's own bin: `npx podcast-pipeline` must reach the system's npx as it does for a creator.
 */
const CREATOR_PATH = [
  path.dirname(process.execPath),
  ...(process.env.PATH ?? "").split(":").filter((p) => !p.endsWith(path.join("node_modules", ".bin"))),
].join(":");
const SESSION = `uploader-${process.pid}`;
const PANE_CAPTURE = "/tmp/podcast-pipeline-pane.txt";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let podcast: CreatedPodcast;
let audio: AudioDir;
let big: AudioFile;
let small: AudioFile;
let stateDir: string;
let slow: SlowNetwork;

function tmux(...args: string[]): string {
  return execFileSync("tmux", args, { encoding: "utf8" });
}
/** What the terminal shows, wrapped lines joined (-J keeps trailing blanks: trimmed). */
const pane = () => tmux("capture-pane", "-p", "-J", "-t", SESSION).replace(/[ \t]+$/gm, "");

async function paneMatches(pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = pane();
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}:\n${text}\n${stack.logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The uploader's own process under the tmux pane: found through the pane's process tree, not by name. */
function uploaderPids(): number[] {
  const panePid = Number(tmux("list-panes", "-t", SESSION, "-F", "#{pane_pid}").trim());
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const underPane = (pid: number) => {
    for (let p = parent.get(pid), hops = 0; p && hops < 10; p = parent.get(p), hops++) if (p === panePid) return true;
    return false;
  };
  // On Node 22 the shim runs the CLI in its own process; on an older Node it starts cli/main.ts: the innermost one.
  const matches = [...parent.keys()].filter((pid) => {
    if (!underPane(pid)) return false;
    try {
      // npx runs the command through its own cache's .bin link: compare real paths.
      const real = (arg: string) => (arg.startsWith("/") && existsSync(arg) ? realpathSync(arg) : arg);
      return readFileSync(`/proc/${pid}/cmdline`, "utf8")
        .split("\0")
        .some((arg) => /cli\/(main\.ts|podcast-pipeline\.js)$/.test(real(arg)));
    } catch {
      return false;
    }
  });
  return matches.filter((pid) => !matches.some((other) => parent.get(other) === pid));
}

/** The uploader through pipes (not a terminal): exit code and both streams. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      path.join(ROOT, "cli", "podcast-pipeline.js"),
      args,
      { env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  audio = await AudioDir.create();
  stateDir = await mkdtemp(path.join(tmpdir(), "uploader-state-"));
  // 8 channels at 192 kHz (a multitrack recorder's export): 40 MB of WAV is only 13 s of audio,
  // so the upload lasts long enough to interrupt while the processor publishes it quickly.
  [stack, big, small] = await Promise.all([
    startTestStack({ processor: true }),
    audio.generate("wav", 13, { sampleRate: 192000, channels: 8 }),
    audio.generate("wav", 3),
  ]);
  podcast = await createPodcast(stack, { title: "Terminal Tales" });
  slow = await startSlowNetwork(stack.edgeUrl, 6_000_000);
  tmux("new-session", "-d", "-s", SESSION, "-x", "110", "-y", "40", "bash --norc --noprofile");
  tmux(
    "send-keys",
    "-t",
    SESSION,
    `export PS1='$ ' PATH='${CREATOR_PATH}' PODCAST_EDGE_URL='${slow.url}' PODCAST_UPLOAD_TOKEN='${podcast.uploadToken}' PODCAST_PIPELINE_STATE_DIR='${stateDir}'; cd '${ROOT}'; clear`,
    "Enter",
  );
}, 120_000);

afterAll(async () => {
  try {
    execFileSync("tmux", ["kill-session", "-t", SESSION], { stdio: "ignore" });
  } catch {
    // already gone
  }
  await slow?.close();
  await stack?.cleanup();
  await audio?.cleanup();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe("podcast-pipeline upload, in a terminal", () => {
  it("shows a progress bar, survives Ctrl-C mid-upload, resumes when run again and follows the episode to its published URLs", async () => {
    const command = `npx podcast-pipeline upload '${big.path}' --title 'Tales from the terminal' --description 'Show notes, typed in a shell.' --chunk-mib 5; echo "EXIT=$?"`;
    tmux("send-keys", "-t", SESSION, command, "Enter");

    // The bar as a person sees it: bytes, rate and time left, redrawn in place.
    const during = await paneMatches(/\[#+-+\]\s+([2-6]\d)%\s+[\d.]+\/[\d.]+ MB\s+[\d.]+ MB\/s\s+ETA \d+:\d\d/, 60_000);
    const episodeId = /episode ([0-9a-f-]{36}): uploading/.exec(during)?.[1];
    expect(episodeId, during).toBeDefined();
    expect(during).toContain('uploading to "Terminal Tales"');

    tmux("send-keys", "-t", SESSION, "C-c");
    // Ctrl-C ends the whole command line (bash drops the `; echo` after a job killed by SIGINT): ask $? by hand.
    await paneMatches(/interrupted: the bytes sent so far are kept; run the same command again to resume\n+\$/, 20_000);
    tmux("send-keys", "-t", SESSION, 'echo "EXIT=$?"', "Enter");
    expect(await paneMatches(/^EXIT=\d+$/m, 10_000)).toMatch(/^EXIT=130$/m);
    const status0 = (await getEpisode(stack.edgeUrl, podcast.uploadToken, episodeId!)) as { upload?: { bytesReceived: number } };
    const stored = status0.upload?.bytesReceived ?? 0;
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(big.size);

    // Run again, and this time the process dies without a word (a crash, a laptop out of battery): SIGKILL.
    tmux("send-keys", "-t", SESSION, "clear", "Enter");
    tmux("send-keys", "-t", SESSION, command, "Enter");
    await paneMatches(/resuming: [\d.]+ of [\d.]+ MB already stored[\s\S]*\]\s+([5-8]\d)%/, 60_000);
    const uploader = uploaderPids();
    expect(uploader).toHaveLength(1);
    process.kill(uploader[0]!, "SIGKILL");
    expect(await paneMatches(/^EXIT=\d+$/m, 20_000)).toMatch(/^EXIT=137$/m);
    const storedBeforeKill =
      ((await getEpisode(stack.edgeUrl, podcast.uploadToken, episodeId!)) as { upload?: { bytesReceived: number } }).upload
        ?.bytesReceived ?? 0;
    expect(storedBeforeKill).toBeGreaterThan(stored);

    // The same command again: the same episode continues from what the edge kept.
    tmux("send-keys", "-t", SESSION, "clear", "Enter");
    tmux("send-keys", "-t", SESSION, command, "Enter");
    const done = await paneMatches(/EXIT=\d+/, 300_000);
    await writeFile(PANE_CAPTURE, done);
    expect(done).toContain(`found an unfinished upload of this file: episode ${episodeId}`);
    expect(Number(/resuming: ([\d.]+) of/.exec(done)?.[1]) * 1e6).toBeGreaterThanOrEqual(storedBeforeKill - 1e5);
    expect(done).toMatch(/resuming: [\d.]+ of [\d.]+ MB already stored/);
    expect(done).toContain(`uploaded: episode ${episodeId}`);
    expect(done).toMatch(/100%/);
    expect(done).toMatch(/queued: waiting for the processor\n(processing: \w+\n)+published\n/);
    expect(done).toContain("\npublished\n");
    expect(done).toContain(`feed: ${stack.edgeUrl}/feeds/${podcast.podcastId}.xml\naudio mp3_128k: `);
    expect(done).toMatch(new RegExp(`audio mp3_128k: ${stack.edgeUrl}/media/${podcast.podcastId}/${episodeId}/\\S+\\.mp3`));
    expect(done).toMatch(/EXIT=0/);

    // Byte for byte the creator's file, and the metadata the flags gave.
    const source = await getObject(localS3(stack), keys.source(podcast.podcastId, episodeId!));
    expect(source?.length).toBe(big.size);
    expect(sha256(source!)).toBe(big.sha256);
    const episode = await getEpisode(stack.edgeUrl, podcast.uploadToken, episodeId!);
    expect(episode).toMatchObject({ state: "published", title: "Tales from the terminal", filename: path.basename(big.path) });
    const record = JSON.parse(new TextDecoder().decode(await getObject(localS3(stack), keys.episode(episodeId!))));
    expect(record.description).toBe("Show notes, typed in a shell.");
    // Finished uploads are forgotten: running it again would start a new episode, not resume this one.
    expect(JSON.parse((await readFile(path.join(stateDir, "uploads.json"), "utf8")) || "{}")).toEqual({});

    // status: one episode's state and URLs.
    const status = await runCli(["status", episodeId!], { PODCAST_EDGE_URL: stack.edgeUrl, PODCAST_UPLOAD_TOKEN: podcast.uploadToken });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^published\naudio mp3_128k: http/);
  }, 480_000);
});

describe("podcast-pipeline, outside a terminal and when things go wrong", () => {
  it("prints plain progress lines to a pipe and the episode id with --no-follow", async () => {
    const res = await runCli(["upload", small.path, "--title", "Piped", "--no-follow"], {
      PODCAST_EDGE_URL: stack.edgeUrl,
      PODCAST_UPLOAD_TOKEN: podcast.uploadToken,
      PODCAST_PIPELINE_STATE_DIR: stateDir,
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).not.toContain("\r");
    expect(res.stderr).toMatch(/^uploaded 100%\s+[\d.]+\/[\d.]+ MB/m);
    expect(res.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
  });

  it("says in one line that the token was refused, and exits 3", async () => {
    const res = await runCli(["upload", small.path, "--title", "Nope"], {
      PODCAST_EDGE_URL: stack.edgeUrl,
      PODCAST_UPLOAD_TOKEN: `pp_${podcast.podcastId}_wrongwrongwrongwrongwrong`,
      PODCAST_PIPELINE_STATE_DIR: stateDir,
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toBe(`podcast-pipeline: the upload token was not accepted by ${stack.edgeUrl} (403: upload token not valid)\n`);
    expect(res.stderr).not.toContain("wrongwrong");
    expect(res.stdout).toBe("");
  });

  it("says in one line that the edge cannot be reached, and exits 4", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const res = await runCli(["upload", small.path, "--title", "Nowhere", "--edge", closed], {
      PODCAST_UPLOAD_TOKEN: podcast.uploadToken,
      PODCAST_PIPELINE_STATE_DIR: stateDir,
    });
    expect(res.code).toBe(4);
    expect(res.stderr).toBe(`podcast-pipeline: cannot reach the edge at ${closed}: connection refused\n`);
  });

  it("explains a wrong command line and exits 2; --help lists every flag, variable and exit code", async () => {
    const missing = await runCli(["upload", small.path], { PODCAST_EDGE_URL: stack.edgeUrl, PODCAST_UPLOAD_TOKEN: podcast.uploadToken });
    expect(missing).toMatchObject({ code: 2, stderr: "podcast-pipeline: --title is required\n" });
    const noToken = await runCli(["upload", small.path, "--title", "x"], { PODCAST_EDGE_URL: stack.edgeUrl, PODCAST_UPLOAD_TOKEN: "" });
    expect(noToken).toMatchObject({ code: 2, stderr: "podcast-pipeline: no upload token: set PODCAST_UPLOAD_TOKEN or pass --token\n" });
    const help = await runCli(["--help"], {});
    expect(help.code).toBe(0);
    for (const word of [
      "--title",
      "--description",
      "--description-file",
      "--edge",
      "--token",
      "--chunk-mib",
      "--no-follow",
      "PODCAST_EDGE_URL",
      "PODCAST_UPLOAD_TOKEN",
      "PODCAST_PIPELINE_STATE_DIR",
      "130",
    ]) {
      expect(help.stdout).toContain(word);
    }
  });
});
