/**
 * Running the native ffmpeg / ffprobe binaries. Output is consumed line by
 * line and only a bounded tail is kept, so a six-hour file with thousands of
 * decoder warnings cannot grow the processor's memory.
 */
import { spawn } from "node:child_process";
import { JobAborted } from "../errors.ts";

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
}

export class ToolFailed extends Error {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;
  constructor(tool: string, exitCode: number | null, signal: string | null, stderrTail: string) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const last = stderrTail.trim().split("\n").slice(-3).join(" | ");
    super(`${tool} ${how}${last ? `: ${last}` : ""}`);
    this.name = "ToolFailed";
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
  }
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called with each stderr line (ffmpeg's errors and its ebur128 summary arrive there). */
  onStderrLine?: (line: string) => void;
  /** Collect stdout (only for small outputs such as ffprobe JSON or -progress). */
  captureStdout?: boolean;
}

export interface RunResult {
  stdout: string;
  stderrTail: string;
}

const TAIL_BYTES = 16 * 1024;
const STDOUT_LIMIT = 8 * 1024 * 1024;

function lines(onLine: (l: string) => void): { push(chunk: string): void; end(): void } {
  let buf = "";
  return {
    push(chunk) {
      // One split per chunk: ffmpeg can print thousands of lines a second (ebur128 frames).
      const parts = (buf + chunk).split(/\r\n|\r|\n/);
      buf = parts.pop() ?? "";
      for (const line of parts) if (line) onLine(line);
      // A pathological line without a newline must not grow forever.
      if (buf.length > TAIL_BYTES) buf = buf.slice(-TAIL_BYTES);
    },
    end() {
      if (buf) onLine(buf);
      buf = "";
    },
  };
}

export function runTool(binary: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const tool = binary.split("/").pop() ?? binary;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new JobAborted());
    const child = spawn(binary, args, { stdio: ["ignore", opts.captureStdout ? "pipe" : "ignore", "pipe"] });
    let tail = "";
    let stdout = "";
    const stderr = lines((line) => {
      tail = `${tail + line}\n`.slice(-TAIL_BYTES);
      opts.onStderrLine?.(line);
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (c: string) => stderr.push(c));
    if (opts.captureStdout) {
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (c: string) => {
        if (stdout.length < STDOUT_LIMIT) stdout += c;
      });
    }
    const abort = () => child.kill("SIGKILL");
    opts.signal?.addEventListener("abort", abort, { once: true });
    child.on("error", (err) => {
      opts.signal?.removeEventListener("abort", abort);
      reject(err);
    });
    child.on("close", (code, signal) => {
      opts.signal?.removeEventListener("abort", abort);
      stderr.end();
      if (opts.signal?.aborted) return reject(new JobAborted());
      if (code === 0) return resolve({ stdout, stderrTail: tail });
      reject(new ToolFailed(tool, code, signal, tail));
    });
  });
}

/**
 * Global options every ffmpeg run starts with. ffmpeg 5.1 slices per-channel
 * filters (biquads, astats) over a thread pool of one thread per CPU by
 * default; the processor already runs one ffmpeg per core (slots.ts), so those
 * threads only wait on each other. Measured on 10 minutes of stereo: the source
 * analysis took 20.6 CPU s with them (a third of it futex calls) and 8.1 s
 * without; a lone 10 Hz high-pass 2.8 s against 0.6 s. Encoders are unaffected.
 */
export const FFMPEG_SERIAL_FILTERS = ["-filter_threads", "1", "-filter_complex_threads", "1"] as const;

/** ffmpeg with `args`, filters on the process's own thread (see FFMPEG_SERIAL_FILTERS). */
export function runFfmpeg(tools: MediaTools, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runTool(tools.ffmpeg, [...FFMPEG_SERIAL_FILTERS, ...args], opts);
}

/** Which of the binaries cannot be started (missing from PATH or the configured path). */
export async function missingTools(tools: MediaTools): Promise<string[]> {
  const missing: string[] = [];
  for (const [name, bin] of Object.entries(tools)) {
    try {
      await runTool(bin, ["-version"], { captureStdout: true });
    } catch {
      missing.push(`${name} (${bin})`);
    }
  }
  return missing;
}

export class ToolsMissing extends Error {
  constructor(missing: string[]) {
    super(
      `missing ${missing.join(" and ")}: the processor needs native ffmpeg and ffprobe. ` +
        `Install them with \`apt-get install ffmpeg\` (Debian/Ubuntu) or \`brew install ffmpeg\` (macOS), ` +
        `or point FFMPEG_PATH / FFPROBE_PATH at the binaries.`,
    );
    this.name = "ToolsMissing";
  }
}
