/**
 * Stage 1, audio.validate: is the upload a complete, decodable audio file we
 * can publish? ffprobe and music-metadata describe it; a full decode (cheap:
 * under a second per hour of audio) finds corrupt or truncated data. Every
 * rejection names what is wrong, because the creator reads it.
 */
import { open, stat } from "node:fs/promises";
import { parseFile } from "music-metadata";
import type { Chapter } from "../../shared/episode.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { INPUT_RULES, SUPPORTED_CODECS, rejection, type InputRejection } from "../../shared/input-rules.ts";
import { InputRejected } from "../errors.ts";
import { probe, type Probe } from "../media/probe.ts";
import { runFfmpeg, ToolFailed } from "../media/tools.ts";
import type { StageContext } from "./context.ts";

export interface ValidateInput {
  sourcePath: string;
  maxDurationSeconds: number;
}

export interface SourceAudio {
  sourcePath: string;
  /** Container, as ffprobe names it (e.g. "wav", "mp3", "flac"). */
  format: string;
  codec: string;
  /** Decoded duration: what the file really holds, not what its header claims. */
  durationSeconds: number;
  sampleRate: number;
  channels: number;
  bitrate: number;
  sizeBytes: number;
  /** Index of the upload's embedded picture (ID3 APIC, MP4 covr, FLAC PICTURE), if it has a JPEG or PNG one. */
  coverStreamIndex?: number;
  /** Its size in pixels (the larger side), when known. */
  coverPixels?: number;
  /** Chapters found in the source (ID3 CHAP/CTOC, MP4, Vorbis comments), sorted by start. */
  chapters: Chapter[];
}

// The rules and their wording are shared with the upload page's check before sending (shared/input-rules.ts).
export const MIN_DURATION_SECONDS = INPUT_RULES.minDurationSeconds;

/** Throws a refusal worded exactly as the upload page words it. */
function refuse(r: InputRejection): never {
  throw new InputRejected(r.code, r.reason);
}

export async function validate(input: ValidateInput, ctx: StageContext): Promise<SourceAudio> {
  const { sourcePath } = input;
  const sizeBytes = (await stat(sourcePath)).size;
  if (sizeBytes === 0) refuse(rejection.empty());

  let info: Probe;
  try {
    info = await probe(ctx.tools, sourcePath, ctx.signal);
  } catch (err) {
    if (err instanceof ToolFailed && err.exitCode !== null) {
      refuse(rejection.notAudio());
    }
    throw err;
  }
  const audio = info.streams.find((s) => s.codec_type === "audio");
  if (!audio) {
    const video = info.streams.some((s) => s.codec_type === "video" && !s.disposition?.attached_pic);
    refuse(rejection.noAudioStream(video));
  }
  const codec = audio.codec_name ?? "unknown";
  // A streaming WAV (RIFF or data size 0 or 0xFFFFFFFF, as `ffmpeg -f wav -` and many recorders
  // write) declares nothing: ffmpeg decodes it to its end, and what decodes is its length.
  const streaming = await isStreamingWav(sourcePath);
  if (!SUPPORTED_CODECS.test(codec)) {
    refuse(rejection.unsupportedCodec(codec));
  }
  const format = (info.format.format_name ?? "unknown").split(",")[0]!;
  ctx.span.setAttributes({ [ATTR.format]: format, [ATTR.codec]: codec, "audio.input.streaming_wav": streaming });

  const declared = streaming ? NaN : Number(audio.duration ?? info.format.duration ?? NaN);
  if (declared > input.maxDurationSeconds) throw tooLong(declared, input.maxDurationSeconds);

  // music-metadata reads what ffprobe glosses over: header sizes larger than the file, and chapters.
  // (Not its "Data chunk size exceeds file size" warning: 12.1 raises it for every WAV whose data chunk is last.)
  const meta = await parseFile(sourcePath, { includeChapters: true, skipCovers: true }).catch(() => undefined);
  const truncatedHeader = streaming
    ? undefined
    : meta?.quality.warnings.find((w) => /exceeding file length|truncat|unexpected end/i.test(w.message));

  const decoded = await decodeCheck(ctx, sourcePath, input.maxDurationSeconds);
  if (decoded.failure) {
    refuse(rejection.decodeFailed(decoded.failure));
  }
  if (decoded.errors > INPUT_RULES.maxDecodeErrors) refuse(rejection.decodeErrors(decoded.errors, decoded.firstError));
  const lost = Number.isFinite(declared) && decoded.seconds < declared - Math.max(1, declared * 0.02);
  if (lost && decoded.errors > 0) {
    // Audio missing in the middle, with decoder complaints: damaged rather than cut short.
    throw new InputRejected(
      "corrupt",
      `corrupt audio data: ${decoded.errors} decode errors (first: ${decoded.firstError ?? "unknown"}); ` +
        `only ${decoded.seconds.toFixed(1)} s of the declared ${declared.toFixed(1)} s decode`,
    );
  }
  if (truncatedHeader) {
    throw new InputRejected("truncated", `truncated file: it ends before the audio data its header declares (${truncatedHeader.message})`);
  }
  if (lost) {
    throw new InputRejected(
      "truncated",
      `truncated file: its header declares ${declared.toFixed(1)} s but only ${decoded.seconds.toFixed(1)} s of audio could be decoded`,
    );
  }
  const durationSeconds = decoded.seconds;
  if (durationSeconds < MIN_DURATION_SECONDS) refuse(rejection.tooShort(durationSeconds));
  if (durationSeconds > input.maxDurationSeconds) throw tooLong(durationSeconds, input.maxDurationSeconds);

  const source: SourceAudio = {
    sourcePath,
    format,
    codec,
    durationSeconds,
    sampleRate: Number(audio.sample_rate ?? meta?.format.sampleRate ?? 0),
    channels: audio.channels ?? meta?.format.numberOfChannels ?? 0,
    bitrate: Math.round(Number(audio.bit_rate ?? info.format.bit_rate ?? meta?.format.bitrate ?? 0)),
    sizeBytes,
    chapters: chaptersOf(meta?.format.chapters, info, durationSeconds),
  };
  const picture = info.streams.find(
    (s) => s.codec_type === "video" && s.disposition?.attached_pic && /^(mjpeg|png)$/.test(s.codec_name ?? ""),
  );
  if (picture) {
    source.coverStreamIndex = picture.index;
    if (picture.width && picture.height) source.coverPixels = Math.max(picture.width, picture.height);
  }
  ctx.span.setAttributes({
    [ATTR.durationSeconds]: source.durationSeconds,
    [ATTR.sampleRate]: source.sampleRate,
    [ATTR.channels]: source.channels,
    [ATTR.bitrate]: source.bitrate,
    [ATTR.fileSize]: sizeBytes,
    [ATTR.chapterCount]: source.chapters.length,
    [ATTR.hasChapters]: source.chapters.length > 0,
    "audio.artwork.in_upload": picture !== undefined,
  });
  return source;
}

function tooLong(seconds: number, max: number): InputRejected {
  const r = rejection.tooLong(seconds, max);
  return new InputRejected(r.code, r.reason);
}

interface DecodeResult {
  seconds: number;
  errors: number;
  firstError?: string;
  failure?: string;
}

/** RIFF/RF64 WAV whose RIFF or data chunk size is a placeholder (0 or 0xFFFFFFFF). */
async function isStreamingWav(file: string): Promise<boolean> {
  const fd = await open(file, "r");
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await fd.read(head, 0, head.length, 0);
    if (bytesRead < 12 || head.toString("latin1", 0, 4) !== "RIFF" || head.toString("latin1", 8, 12) !== "WAVE") return false;
    const riff = head.readUInt32LE(4);
    if (riff === 0 || riff === 0xffffffff) return true;
    for (let at = 12; at + 8 <= bytesRead; ) {
      const size = head.readUInt32LE(at + 4);
      if (head.toString("latin1", at, at + 4) === "data") return size === 0 || size === 0xffffffff;
      at += 8 + size + (size % 2);
    }
    return false;
  } finally {
    await fd.close();
  }
}

/**
 * Decodes the first audio stream to nowhere: the decoder reports damage,
 * `-progress` the real length. Bounded: it stops just past the maximum
 * duration (a header can lie, a stream can declare nothing).
 */
async function decodeCheck(ctx: StageContext, sourcePath: string, maxSeconds: number): Promise<DecodeResult> {
  let errors = 0;
  let firstError: string | undefined;
  const onStderrLine = (line: string) => {
    if (/^Error while decoding/i.test(line)) errors++;
    else if (!firstError) firstError = line.replace(/^\[[^\]]*\]\s*/, "").slice(0, 200);
  };
  try {
    const { stdout } = await runFfmpeg(
      ctx.tools,
      [
        "-nostdin",
        "-v",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
        "-i",
        sourcePath,
        "-map",
        "0:a:0",
        "-t",
        String(maxSeconds + 1),
        "-f",
        "null",
        "-",
      ],
      { signal: ctx.signal, captureStdout: true, onStderrLine },
    );
    const times = [...stdout.matchAll(/^out_time_us=(\d+)/gm)];
    const seconds = times.length ? Number(times[times.length - 1]![1]) / 1e6 : 0;
    return { seconds, errors, firstError };
  } catch (err) {
    if (err instanceof ToolFailed && err.exitCode !== null) {
      return { seconds: 0, errors, firstError, failure: firstError ?? "decoder error" };
    }
    throw err;
  }
}

type MetaChapter = { title: string; start: number; end?: number; timeScale?: number };

function chaptersOf(fromMeta: MetaChapter[] | undefined, info: Probe, duration: number): Chapter[] {
  const list: Chapter[] = fromMeta?.length
    ? fromMeta.map((c) => {
        const scale = c.timeScale && c.timeScale > 0 ? c.timeScale : 1;
        return { startTime: c.start / scale, title: c.title, ...(c.end !== undefined ? { endTime: c.end / scale } : {}) };
      })
    : info.chapters.map((c, i) => ({
        startTime: Number(c.start_time),
        title: c.tags?.title || `Chapter ${i + 1}`,
        ...(c.end_time ? { endTime: Number(c.end_time) } : {}),
      }));
  return list
    .filter((c) => Number.isFinite(c.startTime) && c.startTime >= 0 && c.startTime < duration && c.title)
    .map((c) => ({
      ...c,
      startTime: round3(c.startTime),
      ...(c.endTime !== undefined ? { endTime: round3(Math.min(c.endTime, duration)) } : {}),
    }))
    .sort((a, b) => a.startTime - b.startTime);
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
