/**
 * The local stack: the edge Worker under `wrangler dev` (workerd, with its
 * Durable Objects, R2 bucket and queues persisted under one data folder) and
 * the processor as a plain Node process that reaches the same local R2 bucket
 * through wrangler's S3-compatible endpoint. Used by `npm run demo`, by
 * `npm run stack` and by the end-to-end tests, so all three run the same thing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { installPageTools } from "./page-tools.ts";
import { PROCESSOR_DENO_V8_FLAGS, PROCESSOR_V8_FLAGS } from "../processor/v8-flags.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = path.join(ROOT, "node_modules", ".bin");

/** Credentials of the local S3 endpoint: wrangler.toml's local_dev settings, local only. */
export const LOCAL_S3 = {
  bucket: "podcast-media",
  accessKeyId: "local-processor",
  secretAccessKey: "local-processor-secret",
} as const;

export interface StackOptions {
  /** Folder holding all persisted local state (R2, Durable Objects). */
  dataDir: string;
  edgePort?: number;
  processorPort?: number;
  /** Start the processor too (default true). */
  processor?: boolean;
  /** Runtime of the processor process (default node; deno proves it runs there too). */
  processorRuntime?: "node" | "deno";
  adminToken?: string;
  /** JOB_SIGNING_SECRET shared by the edge and the processor (default: made once per data folder and kept in it). */
  signingSecret?: string;
  /**
   * How often the stack drives the Worker's scheduled handler (the sweep) as
   * the Cron Trigger does in production, ms. Default SCHEDULE_INTERVAL_MS or
   * 60000 (the cron's every minute); 0: never (tests call `runScheduled()` themselves).
   */
  scheduleIntervalMs?: number;
  /** OTLP/HTTP endpoint both services export to (OTEL_EXPORTER_OTLP_ENDPOINT). */
  otlpEndpoint?: string;
  /** Extra Worker vars (e.g. a short UPLOAD_EXPIRY_SECONDS in tests). */
  edgeVars?: Record<string, string>;
  processorEnv?: Record<string, string>;
  /** Where the children's output goes; default: collected, printed on failure. */
  log?: (service: "edge" | "processor", line: string) => void;
}

export interface LocalStack {
  edgeUrl: string;
  processorUrl: string;
  s3Endpoint: string;
  adminToken: string;
  signingSecret: string;
  dataDir: string;
  /** Runs the Worker's scheduled handler once, as the cron would (GET /__scheduled). */
  runScheduled(): Promise<void>;
  /** Kills the processor with SIGKILL: no drain, no cleanup (a crash). */
  killProcessor(): Promise<void>;
  /** Recent output of both services, for test failure messages. */
  logs(): string;
  stopProcessor(): Promise<void>;
  startProcessor(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A port free now, for a server started a little later. Chosen below the
 * ephemeral range (Linux 32768-60999, macOS 49152-65535): a port the OS hands
 * out for "any port" is one it also gives to outgoing connections, and one
 * was taken that way in the seconds before the processor listened on it
 * (EADDRINUSE, CI, 3 December). Random, so parallel stacks rarely try the same.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.unref();
      srv.once("error", () => resolve(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** A secret of this data folder: made once, kept beside the state it guards (mode 0600). */
async function folderSecret(dataDir: string, name: string, make: () => string): Promise<string> {
  const file = path.join(dataDir, name);
  try {
    const v = (await readFile(file, "utf8")).trim();
    if (v) return v;
  } catch {
    // not made yet
  }
  const v = make();
  await writeFile(file, `${v}\n`, { mode: 0o600 });
  return v;
}

/** KEY=value lines for wrangler's --env-file: secrets reach the Worker through a file, never argv (readable in /proc). */
function envFileText(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n");
}

function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

async function waitForHttp(url: string, child: ChildProcess, what: string, timeoutMs: number, logs: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}\n${logs()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer at ${url} within ${timeoutMs} ms\n${logs()}`);
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export async function startLocalStack(opts: StackOptions): Promise<LocalStack> {
  await mkdir(opts.dataDir, { recursive: true });
  const edgePort = opts.edgePort ?? (await freePort());
  const processorPort = opts.processorPort ?? (await freePort());
  const inspectorPort = await freePort();
  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  const processorUrl = `http://127.0.0.1:${processorPort}`;
  const s3Endpoint = `${edgeUrl}/cdn-cgi/local/r2/s3`;
  const adminToken = opts.adminToken ?? `local-admin-${randomBytes(16).toString("hex")}`;
  const signingSecret =
    opts.signingSecret ?? (await folderSecret(opts.dataDir, "job-signing-secret", () => randomBytes(32).toString("hex")));

  const recent: string[] = [];
  const log = (service: "edge" | "processor", line: string) => {
    recent.push(`[${service}] ${line}`);
    if (recent.length > 400) recent.shift();
    opts.log?.(service, line);
  };
  const logs = () => recent.join("\n");
  const pipe = (service: "edge" | "processor", child: ChildProcess) => {
    for (const stream of [child.stdout, child.stderr]) {
      let buf = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        buf += chunk;
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          log(service, buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
  };

  const vars: Record<string, string> = {
    PUBLIC_BASE_URL: edgeUrl,
    PROCESSOR_URL: processorUrl,
    DISPATCH_MODE: "http",
    ...opts.edgeVars,
  };
  const secrets: Record<string, string> = {
    ADMIN_TOKEN: adminToken,
    JOB_SIGNING_SECRET: signingSecret,
    ...(opts.otlpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: opts.otlpEndpoint } : {}),
  };
  const envFile = path.join(opts.dataDir, "edge-secrets.env");
  await writeFile(envFile, `${envFileText(secrets)}\n`, { mode: 0o600 });
  const edge = spawn(
    path.join(BIN, "wrangler"),
    [
      "dev",
      "--config",
      path.join(ROOT, "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(edgePort),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      path.join(opts.dataDir, "wrangler"),
      "--show-interactive-dev-session=false",
      "--log-level",
      "info",
      // /__scheduled runs the scheduled handler: wrangler dev does not fire crons by itself.
      "--test-scheduled",
      "--env-file",
      envFile,
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, WRANGLER_SEND_METRICS: "false", CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  pipe("edge", edge);

  let processor: ChildProcess | undefined;
  const startProcessor = async () => {
    const command =
      opts.processorRuntime === "deno"
        ? [path.join(BIN, "deno"), "run", "--allow-all", "--quiet", PROCESSOR_DENO_V8_FLAGS, path.join(ROOT, "processor", "main.ts")]
        : [path.join(BIN, "node"), ...PROCESSOR_V8_FLAGS, path.join(ROOT, "processor", "main.ts")];
    processor = spawn(command[0]!, command.slice(1), {
      cwd: ROOT,
      env: {
        ...process.env,
        PATH: `${BIN}:${process.env.PATH}`,
        PORT: String(processorPort),
        HOST: "127.0.0.1",
        JOB_SIGNING_SECRET: signingSecret,
        R2_S3_ENDPOINT: s3Endpoint,
        R2_BUCKET: LOCAL_S3.bucket,
        R2_ACCESS_KEY_ID: LOCAL_S3.accessKeyId,
        R2_SECRET_ACCESS_KEY: LOCAL_S3.secretAccessKey,
        PUBLIC_BASE_URL: edgeUrl,
        WORK_DIR: path.join(opts.dataDir, "processor-work"),
        ...(opts.otlpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: opts.otlpEndpoint } : {}),
        ...opts.processorEnv,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    pipe("processor", processor);
    await waitForHttp(`${processorUrl}/healthz`, processor, "processor", 30_000, logs);
  };

  try {
    await waitForHttp(`${edgeUrl}/healthz`, edge, "edge (wrangler dev)", 60_000, logs);
    // The upload page's file checker (ffmpeg.wasm core) is served from R2, as in production.
    await installPageTools(s3Endpoint).catch((err: unknown) => {
      // With what wrangler said: once, it answered /healthz and then refused connections (CI, 3 December).
      throw new Error(`installing the page tools into the local R2 failed: ${err instanceof Error ? err.message : String(err)}\n${logs()}`);
    });
    if (opts.processor !== false) await startProcessor();
  } catch (err) {
    await Promise.all([stopChild(processor), stopChild(edge)]);
    throw err;
  }

  const runScheduled = async () => {
    const res = await fetch(`${edgeUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`, { signal: AbortSignal.timeout(60_000) });
    await res.body?.cancel();
    if (res.status >= 400) throw new Error(`/__scheduled answered ${res.status}`);
  };
  // Production's Cron Trigger, locally: the same handler on the same schedule.
  const interval = opts.scheduleIntervalMs ?? Number(process.env.SCHEDULE_INTERVAL_MS ?? 60_000);
  let scheduling: Promise<void> = Promise.resolve();
  const schedule =
    interval > 0
      ? setInterval(() => {
          scheduling = runScheduled().catch((err) => log("edge", `scheduled run failed: ${(err as Error).message}`));
        }, interval)
      : undefined;
  schedule?.unref();
  const stopSchedule = async () => {
    if (schedule) clearInterval(schedule);
    await scheduling;
  };

  return {
    edgeUrl,
    processorUrl,
    s3Endpoint,
    adminToken,
    signingSecret,
    dataDir: opts.dataDir,
    logs,
    runScheduled,
    startProcessor,
    stopProcessor: () => stopChild(processor),
    killProcessor: () => killChild(processor),
    stop: async () => {
      await stopSchedule();
      await Promise.all([stopChild(processor), stopChild(edge)]);
    },
  };
}
