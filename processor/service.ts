/**
 * The running processor: configuration checked, ffmpeg found, telemetry
 * started, HTTP served (node:http, which Deno implements too), and a graceful
 * stop: refuse new jobs, let the running one finish (or stop it as "retry"
 * after the grace period), then shut the SDK down so the last spans leave.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { ProcessorConfig } from "./config.ts";
import { registerSecret } from "./errors.ts";
import { addSecret, redactConsole } from "./redact.ts";
import { missingTools, ToolsMissing } from "./media/tools.ts";
import { pipelineMetrics } from "./pipeline.ts";
import { processorApp, type ProcessorApp } from "./server.ts";
import { Bucket } from "./storage/bucket.ts";
import { removeJobFolders } from "./storage/work-dir.ts";
import { withStageHolds } from "./stage-hold.ts";
import { startTelemetry, type TelemetryOptions } from "./telemetry.ts";

export interface RunningProcessor {
  url: string;
  app: ProcessorApp;
  /** Graceful stop, as on SIGTERM. */
  stop(): Promise<void>;
}

export { ToolsMissing };

export async function startProcessor(
  config: ProcessorConfig,
  hooks: Pick<TelemetryOptions, "spanProcessors" | "metricReaders"> & {
    /** TEST-ONLY: PROCESSOR_TEST_HOLD_DIR (processor/stage-hold.ts); never set in production. */
    stageHoldDir?: string;
  } = {},
): Promise<RunningProcessor> {
  const tools = { ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath };
  const missing = await missingTools(tools);
  if (missing.length) throw new ToolsMissing(missing);

  redactConsole();
  for (const secret of [config.secretAccessKey, config.signingSecret]) {
    registerSecret(secret);
    addSecret(secret);
  }
  // Before taking work: folders of jobs a crash (kill -9, OOM, a lost container) left behind.
  const leftovers = await removeJobFolders(config.workDir);
  if (leftovers.length) console.log(`processor: removed ${leftovers.length} job folder(s) left by a previous run`);
  for (const pair of (process.env.OTEL_EXPORTER_OTLP_HEADERS ?? "").split(",")) {
    registerSecret(pair.split("=").slice(1).join("="));
    addSecret(pair.split("=").slice(1).join("="));
  }

  const telemetry = startTelemetry({
    serviceName: config.serviceName,
    otlpEndpoint: config.otlpEndpoint,
    metricExportIntervalMs: config.metricExportIntervalMs,
    spanProcessors: hooks.spanProcessors,
    metricReaders: hooks.metricReaders,
  });
  const bucket = hooks.stageHoldDir ? withStageHolds(new Bucket(config), hooks.stageHoldDir) : new Bucket(config);
  const stopJobs = new AbortController();
  const metrics = pipelineMetrics();
  const app = processorApp(
    {
      bucket,
      tools,
      metrics,
      workDir: config.workDir,
      publicBaseUrl: config.publicBaseUrl,
      maxDurationSeconds: config.maxDurationSeconds,
      ffmpegProcesses: config.ffmpegProcesses,
      metricsByPodcast: config.metricsByPodcast,
      leaseSeconds: config.leaseSeconds,
      maxRunSeconds: config.maxRunSeconds,
      signingSecret: config.signingSecret,
      afterJob: () => telemetry.flush(),
    },
    stopJobs.signal,
  );

  const server = createServer((req, res) => {
    serve(app, req, res).catch((err) => {
      console.error("request failed", (err as Error)?.name);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "internal error" }));
    });
  });
  // A job answers after minutes of work: never time the request out under it.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      server.close();
      const grace = setTimeout(() => stopJobs.abort(), config.shutdownGraceSeconds * 1000);
      await app.drain();
      clearTimeout(grace);
      server.closeAllConnections();
      await telemetry.shutdown().catch(() => undefined);
      bucket.destroy();
    })());
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, app, stop };
}

async function serve(app: ProcessorApp, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === "string") headers.set(k, v);
    else if (Array.isArray(v)) headers.set(k, v.join(", "));
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
  const response = await app.handle(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(req.method === "HEAD" ? undefined : Buffer.from(await response.arrayBuffer()));
}
