/**
 * `bin/demo`: starts the local stack and publishes one episode through the
 * real path (tus upload -> edge -> queue -> processor -> R2 -> feed), then
 * prints where to find it. Keeps serving until Ctrl-C unless --exit is given.
 */
import { parseArgs } from "node:util";
import { createReadStream } from "node:fs";
import { mkdir, readFile, stat, writeFile, appendFile } from "node:fs/promises";
import path from "node:path";
import * as tus from "tus-js-client";
import { ROOT, startLocalStack } from "./stack.ts";
import { createPodcast, type CreatedPodcast } from "./admin.ts";
import { generateSpeech } from "./sample-audio.ts";
import { startOtlpReceiver, type OtlpReceiver } from "./otlp-receiver.ts";
import { renderTraceTree } from "./trace-tree.ts";
import { SPANS } from "../shared/telemetry.ts";
import type { Episode } from "../shared/episode.ts";

const HELP = `Usage: bin/demo [options]

Starts the local stack (edge Worker under wrangler dev + processor) and
publishes an episode end to end.

  --data DIR          local state folder (default: .data)
  --port N            edge port (default: 8787)
  --processor-port N  processor port (default: 8790)
  --file PATH         publish this audio file instead of a generated sample
  --title TEXT        episode title
  --exit              stop the stack once the episode is published
  -h, --help          this text

Environment: OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_HEADERS send both
services' traces and metrics to an OTLP/HTTP endpoint (e.g. Honeycomb).
Without them, the demo receives the OTLP itself and prints the episode's trace.`;

const { values: args } = parseArgs({
  options: {
    data: { type: "string", default: path.join(ROOT, ".data") },
    port: { type: "string", default: "8787" },
    "processor-port": { type: "string", default: "8790" },
    file: { type: "string" },
    title: { type: "string" },
    exit: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const dataDir = path.resolve(args.data!);
const logDir = path.join(dataDir, "logs");
await mkdir(logDir, { recursive: true });
const say = (line: string) => console.log(`demo: ${line}`);

// No collector configured: receive the OTLP here so the trace can be shown.
// Kept under the data folder, so `bin/trace <episodeId>` prints any episode's trace later.
const localTraces: OtlpReceiver | undefined = process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  ? undefined
  : await startOtlpReceiver({ persistDir: path.join(dataDir, "otlp") });
say(`starting the local stack (state in ${dataDir}, logs in ${logDir})`);
const stack = await startLocalStack({
  dataDir,
  edgePort: Number(args.port),
  processorPort: Number(args["processor-port"]),
  adminToken: await adminToken(),
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? localTraces?.endpoint,
  log: (service, line) => void appendFile(path.join(logDir, `${service}.log`), `${line}\n`),
});
const stop = async () => {
  await stack.stop();
  await localTraces?.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

try {
  const podcast = await demoPodcast();
  say(`podcast ${podcast.podcastId}`);

  const file = args.file ? path.resolve(args.file) : await sampleEpisode();
  const { size } = await stat(file);
  const episodeId = await upload(file, size, podcast.uploadToken);
  const statusUrl = `${stack.edgeUrl}/episodes/${episodeId}`;
  const episode = await waitForPublished(statusUrl, podcast.uploadToken);

  console.log(`
Published "${episode.title}"
  feed URL:    ${podcast.feedUrl}
  status URL:  ${statusUrl}   (Authorization: Bearer <upload token in ${path.join(dataDir, "demo-podcast.json")}>)
  trace id:    ${episode.traceId}
  renditions:
${(episode.renditions ?? []).map((r) => `    ${r.id.padEnd(9)} ${r.url}`).join("\n")}
`);
  if (localTraces) await printTrace(localTraces, episode.traceId);
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  console.error(`recent output:\n${stack.logs().split("\n").slice(-40).join("\n")}`);
  await stack.stop();
  process.exit(1);
}

if (args.exit) {
  await stack.stop();
  await localTraces?.stop();
} else {
  say(`serving at ${stack.edgeUrl}; point a podcast app at the feed URL. Ctrl-C stops.`);
  say("the sweep of stranded episodes runs every minute, as the Cron Trigger runs it in production");
}

/** The admin token of this data folder: made once, kept beside the state it guards. */
async function adminToken(): Promise<string> {
  const file = path.join(dataDir, "admin-token");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const token = `local-admin-${crypto.randomUUID()}`;
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    return token;
  }
}

type DemoPodcast = CreatedPodcast;

/** Reuses the demo podcast of this data folder, so repeated runs grow one feed. */
async function demoPodcast(): Promise<DemoPodcast> {
  const file = path.join(dataDir, "demo-podcast.json");
  try {
    const saved = JSON.parse(await readFile(file, "utf8")) as DemoPodcast;
    const res = await fetch(`${stack.edgeUrl}/podcasts/${saved.podcastId}`, { headers: { Authorization: `Bearer ${stack.adminToken}` } });
    if (res.ok) return { ...saved, feedUrl: `${stack.edgeUrl}/feeds/${saved.podcastId}.xml` };
  } catch {
    // none yet
  }
  const created = await createPodcast(stack, {
    title: "Pipeline Demo Radio",
    author: "podcast-pipeline",
    description: "Episodes published by bin/demo on the local stack.",
    ownerEmail: "demo@example.com",
  });
  await writeFile(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  return created;
}

async function sampleEpisode(): Promise<string> {
  const file = path.join(dataDir, "samples", "sample-episode.wav");
  await mkdir(path.dirname(file), { recursive: true });
  say("generating a 20-second sample episode with ffmpeg");
  await generateSpeech(file, { seconds: 20 });
  return file;
}

function upload(file: string, size: number, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let lastShown = -1;
    const title = args.title ?? `Demo episode, ${new Date().toISOString().slice(0, 16).replace("T", " ")}`;
    const up = new tus.Upload(createReadStream(file), {
      endpoint: `${stack.edgeUrl}/uploads`,
      uploadSize: size,
      chunkSize: 50 * 1024 * 1024,
      headers: { Authorization: `Bearer ${token}` },
      metadata: { title, filename: path.basename(file), filetype: "audio/wav" },
      retryDelays: [0, 1000, 3000, 5000],
      onProgress(sent, total) {
        const pct = Math.floor((sent / total) * 100);
        if (pct >= lastShown + 25 || sent === total) {
          lastShown = pct;
          say(`uploading ${path.basename(file)}: ${pct}% of ${(total / 1e6).toFixed(1)} MB`);
        }
      },
      onError: reject,
      onSuccess() {
        const id = up.url?.split("/").pop();
        if (!id) reject(new Error("upload finished without an upload URL"));
        else resolve(id);
      },
    });
    up.start();
  });
}

async function waitForPublished(statusUrl: string, token: string): Promise<Episode> {
  const deadline = Date.now() + 10 * 60_000;
  let last = "";
  while (Date.now() < deadline) {
    const res = await fetch(statusUrl, { headers: { Authorization: `Bearer ${token}` } });
    if (res.ok) {
      const body = (await res.json()) as { episode?: Episode } & Episode;
      const episode = body.episode ?? body;
      const now = episode.state === "processing" && episode.stage ? `processing: ${episode.stage}` : episode.state;
      if (now !== last) {
        say(`episode ${episode.episodeId}: ${now}`);
        last = now;
      }
      if (episode.state === "published") return episode;
      if (episode.state === "failed") throw new Error(`episode failed: ${episode.failure?.reason ?? "no reason given"}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("the episode was not published within 10 minutes");
}

async function printTrace(receiver: OtlpReceiver, traceId: string): Promise<void> {
  try {
    await receiver.waitFor(() => receiver.spans().some((s) => s.traceId === traceId && s.name === SPANS.pipeline), 15_000);
  } catch {
    // print what arrived
  }
  console.log(
    `Trace ${traceId} (set OTEL_EXPORTER_OTLP_ENDPOINT to send it to Honeycomb instead):\n${renderTraceTree(receiver.spans(), traceId)}\n`,
  );
  console.log(`Any episode's trace, later: bin/trace <episodeId>\n`);
}
