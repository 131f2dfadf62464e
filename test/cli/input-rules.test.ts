// The rules the upload page's check applies (shared/input-rules.ts, judged at POST /upload/check) against the
// processor's own validate stage, on the same files: both must refuse the same files with the same code and
// the same words, and accept the same good one. The page's figures come from ffmpeg.wasm's ffprobe; here
// native ffprobe gives the same fields, gathered the way edge/upload-page/file-check.js gathers them.
// If validate.ts changes its rules (codecs, limits) without shared/input-rules.ts, this fails.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, open, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { trace } from "@opentelemetry/api";
import { InputRejected } from "../../processor/errors.ts";
import { validate } from "../../processor/stages/validate.ts";
import { judgeInput, INPUT_RULES, type ProbedInput } from "../../shared/input-rules.ts";

const run = promisify(execFile);
let dir: string;

const ffmpeg = (...args: string[]) => run("ffmpeg", ["-nostdin", "-v", "error", "-y", ...args]);

/** What file-check.js sends: first audio stream's codec, a video stream that is not cover art, declared duration. */
async function probed(file: string): Promise<ProbedInput> {
  const sizeBytes = (await stat(file)).size;
  let info: {
    streams?: { codec_type?: string; codec_name?: string; duration?: string; disposition?: { attached_pic?: number } }[];
    format?: { duration?: string };
  } | null = null;
  try {
    const { stdout } = await run("ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", file]);
    info = JSON.parse(stdout);
  } catch {
    info = null;
  }
  const streams = info?.streams ?? [];
  const audio = streams.find((s) => s.codec_type === "audio");
  const declared = Number(audio?.duration ?? info?.format?.duration);
  return {
    sizeBytes,
    recognised: info !== null,
    hasVideo: streams.some((s) => s.codec_type === "video" && !s.disposition?.attached_pic),
    durationSeconds: declared,
    ...(audio ? { audioCodec: audio.codec_name ?? "unknown" } : {}),
  };
}

async function processorVerdict(file: string): Promise<{ code: string; reason: string } | undefined> {
  const ctx = {
    tools: { ffmpeg: "ffmpeg", ffprobe: "ffprobe" },
    jobDir: dir,
    signal: new AbortController().signal,
    span: trace.getTracer("test").startSpan("validate"),
  };
  try {
    await validate({ sourcePath: file, maxDurationSeconds: INPUT_RULES.defaultMaxDurationSeconds }, ctx);
    return undefined;
  } catch (err) {
    if (!(err instanceof InputRejected)) throw err;
    return { code: err.code, reason: err.message };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "input-rules-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the page's rules and the processor's validate stage", () => {
  const cases: [string, () => Promise<string>][] = [
    [
      "a video-only MP4",
      async () => {
        const f = path.join(dir, "video.mp4");
        await ffmpeg("-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=10", "-c:v", "mpeg4", f);
        return f;
      },
    ],
    [
      "WMA audio (an unsupported codec)",
      async () => {
        const f = path.join(dir, "audio.wma");
        await ffmpeg("-f", "lavfi", "-i", "sine=duration=3", "-c:a", "wmav2", f);
        return f;
      },
    ],
    [
      "μ-law telephony audio in WAV",
      async () => {
        const f = path.join(dir, "phone.wav");
        await ffmpeg("-f", "lavfi", "-i", "sine=duration=3", "-ar", "8000", "-c:a", "pcm_mulaw", f);
        return f;
      },
    ],
    [
      "a 7-hour WAV (header only, sparse)",
      async () => {
        const f = path.join(dir, "long.wav");
        const dataBytes = 7 * 3600 * 8000 * 2;
        const h = Buffer.alloc(44);
        h.write("RIFF", 0, "ascii");
        h.writeUInt32LE(36 + dataBytes, 4);
        h.write("WAVEfmt ", 8, "ascii");
        h.writeUInt32LE(16, 16);
        h.writeUInt16LE(1, 20);
        h.writeUInt16LE(1, 22);
        h.writeUInt32LE(8000, 24);
        h.writeUInt32LE(16000, 28);
        h.writeUInt16LE(2, 32);
        h.writeUInt16LE(16, 34);
        h.write("data", 36, "ascii");
        h.writeUInt32LE(dataBytes, 40);
        const fd = await open(f, "w");
        await fd.write(h, 0, 44, 0);
        await fd.truncate(44 + dataBytes);
        await fd.close();
        return f;
      },
    ],
    [
      "text renamed .mp3",
      async () => {
        const f = path.join(dir, "notes.mp3");
        await writeFile(f, "these are my show notes, not audio\n".repeat(50));
        return f;
      },
    ],
    [
      "a good FLAC",
      async () => {
        const f = path.join(dir, "good.flac");
        await ffmpeg("-f", "lavfi", "-i", "sine=duration=3", "-c:a", "flac", f);
        return f;
      },
    ],
  ];

  for (const [name, make] of cases) {
    it(`agree on ${name}`, async () => {
      const file = await make();
      const [page, processor] = await Promise.all([probed(file).then((p) => judgeInput(p)), processorVerdict(file)]);
      expect(page).toEqual(processor);
    });
  }
});
