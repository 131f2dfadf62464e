/**
 * Stage 3, audio.transcode: the five renditions and the waveform tap from one
 * decode per ffmpeg process. ffmpeg 5.1 runs every encoder of a process on one
 * thread, so the encoders are split over two processes (one per core), each
 * decoding the source once (decoding costs <1 s per hour) and feeding its
 * encoders through asplit. Gain and the per-rendition limiters come from the
 * normalize plan; tags and chapters are written by the same invocation.
 *
 * Every rendition is then measured independently (ebur128, true peak) and must
 * land within +-1 LU of the target and at or under the true-peak ceiling.
 */
import { writeFile, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { context, trace, SpanStatusCode, type Span } from "@opentelemetry/api";
import type { Chapter } from "../../shared/episode.ts";
import { renditionSpec, type RenditionId, type RenditionSpec } from "../../shared/renditions.ts";
import { ATTR, SPANS } from "../../shared/telemetry.ts";
import { InputRejected, describeError } from "../errors.ts";
import { ffmetadataChapters } from "../media/ffmetadata.ts";
import { measureLoudness, type LoudnessMeasurement } from "../media/loudness.ts";
import { runTool } from "../media/tools.ts";
import type { StageContext } from "./context.ts";
import { ENCODER_HEADROOM_DB, planBranch, type BranchPlan, type LoudnessPlan } from "./normalize.ts";
import type { SourceAudio } from "./validate.ts";

export interface EpisodeTags {
  title: string;
  artist: string;
  album: string;
  /** ISO date of publication (year is what players show). */
  date?: string;
}

export interface TranscodeInput {
  source: SourceAudio;
  plan: LoudnessPlan;
  tags: EpisodeTags;
  chapters: Chapter[];
}

export interface EncodedRendition {
  spec: RenditionSpec;
  path: string;
  bytes: number;
  loudness: { integratedLufs: number; truePeakDbtp: number };
}

/** Mono signed 16-bit little-endian PCM of the normalised audio, at a low rate: the waveform stage's input. */
export interface WaveformTap {
  path: string;
  sampleRate: number;
}

export interface TranscodeOutput {
  renditions: EncodedRendition[];
  waveformTap: WaveformTap;
}

/** 8 kHz keeps the tap small (57 MB per hour) while peaks stay faithful at 100 ms per pixel. */
export const WAVEFORM_TAP_RATE = 8000;

/**
 * The two processes, balanced by measured encoder cost per hour of audio
 * (AAC 128k 57 s + Opus 51 s vs AAC 64k 46 s + MP3 128k 35 s + MP3 64k 32 s).
 * The waveform tap rides on the first.
 */
export const PROCESS_GROUPS: readonly (readonly RenditionId[])[] = [
  ["aac_128k", "opus_48k"],
  ["aac_64k", "mp3_128k", "mp3_64k"],
];

/** Loudness tolerance of every rendition around the target, LU (issue #4). */
export const LOUDNESS_TOLERANCE_LU = 1;

/**
 * A rendition this far from the target (LU) after the first pass is encoded
 * again with the difference as extra gain: encoders and the limiter lower
 * loudness by an amount that depends on the content (measured: pink noise
 * loses up to 1.6 LU in Opus 48k, peaky speech ~1 LU under a -5 dB limit).
 * Within this band a second encode is not worth its CPU.
 */
export const CORRECTION_THRESHOLD_LU = 0.7;

interface Pass {
  specs: RenditionSpec[];
  withTap: boolean;
}

export async function transcode(input: TranscodeInput, ctx: StageContext): Promise<TranscodeOutput> {
  const outDir = path.join(ctx.jobDir, "renditions");
  await mkdir(outDir, { recursive: true });
  let chaptersFile: string | undefined;
  if (input.chapters.length) {
    chaptersFile = path.join(ctx.jobDir, "chapters.ffmeta");
    await writeFile(chaptersFile, ffmetadataChapters(input.chapters, input.source.durationSeconds));
  }
  const waveformTap: WaveformTap = { path: path.join(ctx.jobDir, "waveform.pcm"), sampleRate: WAVEFORM_TAP_RATE };
  const tracer = trace.getTracer("podcast-processor");
  const parent = trace.setSpan(context.active(), ctx.span);
  const ids = PROCESS_GROUPS.flat();
  const spans = new Map<RenditionId, Span>(
    ids.map((id) => [id, tracer.startSpan(SPANS.rendition(id), { attributes: { [ATTR.renditionId]: id } }, parent)]),
  );
  const branches = { ...input.plan.branches };
  const measured = new Map<RenditionId, LoudnessMeasurement>();

  /** Encodes the given renditions (one decode per process) and measures each output as soon as its process ends. */
  const run = (passes: Pass[]) =>
    Promise.all(
      passes.map(async ({ specs, withTap }) => {
        const args = encodeArgs({ ...input, plan: { ...input.plan, branches } }, specs, outDir, chaptersFile, withTap ? waveformTap : undefined);
        await runTool(ctx.tools.ffmpeg, args, { signal: ctx.signal });
        for (const spec of specs) measured.set(spec.id, await measureLoudness(ctx.tools, path.join(outDir, spec.file), ctx.signal));
      }),
    );

  try {
    await run(PROCESS_GROUPS.map((g, i) => ({ specs: g.map(renditionSpec), withTap: i === 0 })));
    const again = ids.filter((id) => needsCorrection(measured.get(id)!, input.plan));
    if (again.length) {
      for (const id of again) {
        const m = measured.get(id)!;
        branches[id] = correctBranch(id, m, input.plan, branches[id]);
        spans.get(id)!.addEvent("loudness correction", {
          "audio.loudness.first_pass_lufs": m.integratedLufs,
          "audio.loudness.first_pass_true_peak_dbtp": m.truePeakDbtp,
          "audio.loudness.correction_db": branches[id].extraGainDb ?? 0,
        });
      }
      // Split the second pass over two processes as well, alternating by cost order.
      const passes: Pass[] = [0, 1]
        .map((p) => ({ specs: again.filter((_, i) => i % 2 === p).map(renditionSpec), withTap: false }))
        .filter((p) => p.specs.length > 0);
      await run(passes);
      ctx.span.setAttribute("audio.transcode.corrected_renditions", again);
    }
  } catch (err) {
    for (const span of spans.values()) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(err) });
      span.end();
    }
    throw err;
  }

  const renditions: EncodedRendition[] = [];
  const failures: string[] = [];
  for (const id of ids) {
    const spec = renditionSpec(id);
    const m = measured.get(id)!;
    const file = path.join(outDir, spec.file);
    const bytes = (await stat(file)).size;
    const span = spans.get(id)!;
    span.setAttributes({
      [ATTR.outputSize]: bytes,
      [ATTR.codec]: spec.codec,
      [ATTR.bitrate]: spec.bitrateKbps * 1000,
      [ATTR.sampleRate]: spec.sampleRate,
      [ATTR.renditionLoudness(id)]: m.integratedLufs,
      [ATTR.renditionTruePeak(id)]: m.truePeakDbtp,
      "audio.loudness.limiter_ceiling_db": branches[id].limiterCeilingDb ?? 0,
      "audio.loudness.extra_gain_db": branches[id].extraGainDb ?? 0,
    });
    ctx.span.setAttributes({ [ATTR.renditionLoudness(id)]: m.integratedLufs, [ATTR.renditionTruePeak(id)]: m.truePeakDbtp });
    const problem = checkLoudness(id, m, input.plan);
    if (problem) {
      failures.push(problem);
      span.setStatus({ code: SpanStatusCode.ERROR, message: problem });
    }
    span.end();
    renditions.push({ spec, path: file, bytes, loudness: { integratedLufs: m.integratedLufs, truePeakDbtp: m.truePeakDbtp } });
  }
  if (failures.length) throw new InputRejected("loudness_out_of_range", failures.join("; "));
  return { renditions, waveformTap };
}

function needsCorrection(m: LoudnessMeasurement, plan: LoudnessPlan): boolean {
  return (
    Math.abs(m.integratedLufs - plan.target.integratedLufs) > CORRECTION_THRESHOLD_LU ||
    m.truePeakDbtp > plan.target.truePeakDbtp + 0.05
  );
}

/** The branch for a second encode: the loudness difference as extra gain, and more headroom if the peak was hot. */
function correctBranch(id: RenditionId, m: LoudnessMeasurement, plan: LoudnessPlan, first: BranchPlan): BranchPlan {
  const extra = Math.max(-12, Math.min(12, (first.extraGainDb ?? 0) + plan.target.integratedLufs - m.integratedLufs));
  const overshoot = Math.max(0, m.truePeakDbtp - plan.target.truePeakDbtp);
  const headroom = ENCODER_HEADROOM_DB[id] + (overshoot > 0 ? overshoot + 0.3 : 0);
  return planBranch(plan.target, plan.predictedTruePeakDbtp, headroom, extra);
}

/** Why a measured rendition misses the target, or undefined when it is within tolerance. */
export function checkLoudness(id: RenditionId, m: LoudnessMeasurement, plan: LoudnessPlan): string | undefined {
  const { integratedLufs: target, truePeakDbtp: ceiling } = plan.target;
  const off = Math.abs(m.integratedLufs - target) > LOUDNESS_TOLERANCE_LU;
  // ebur128 prints one decimal: a peak reported at the ceiling is at most 0.05 dB over.
  const hot = m.truePeakDbtp > ceiling + 0.05;
  if (!off && !hot) return undefined;
  return (
    `rendition ${id} measured ${m.integratedLufs} LUFS / ${m.truePeakDbtp} dBTP after encoding; ` +
    `the target is ${target} +-${LOUDNESS_TOLERANCE_LU} LU with true peak <= ${ceiling} dBTP`
  );
}

/** One ffmpeg invocation: decode once, gain, split by sample rate, limit per rendition, encode. */
export function encodeArgs(
  input: TranscodeInput,
  specs: RenditionSpec[],
  outDir: string,
  chaptersFile: string | undefined,
  tap: WaveformTap | undefined,
): string[] {
  const layout = input.source.channels === 1 ? "mono" : "stereo";
  const rates = [...new Set(specs.map((s) => s.sampleRate))];
  const filters: string[] = [];
  const head = `[0:a:0]aformat=sample_fmts=flt:channel_layouts=${layout},volume=${input.plan.gainDb}dB:precision=float`;
  filters.push(`${head},asplit=${rates.length + (tap ? 1 : 0)}${rates.map((r) => `[r${r}]`).join("")}${tap ? "[tap]" : ""}`);
  for (const rate of rates) {
    const forRate = specs.filter((s) => s.sampleRate === rate);
    const split = forRate.length > 1 ? `,asplit=${forRate.length}` : "";
    filters.push(`[r${rate}]aresample=${rate}${split}${forRate.map((s) => `[pre_${s.id}]`).join("")}`);
    for (const s of forRate) {
      const { limiterCeilingDb: ceiling, extraGainDb } = input.plan.branches[s.id];
      const extra = extraGainDb ? `volume=${extraGainDb}dB:precision=float,` : "";
      // level=0: alimiter otherwise "auto-levels" its output up to the limit; latency=1 keeps the branches in sync.
      const limiter =
        ceiling === undefined
          ? "anull"
          : `alimiter=limit=${Math.max(10 ** (ceiling / 20), 0.0625).toFixed(5)}:level=0:latency=1:attack=5:release=50`;
      filters.push(`[pre_${s.id}]${extra}${limiter}[out_${s.id}]`);
    }
  }
  if (tap) filters.push(`[tap]aresample=${tap.sampleRate},aformat=sample_fmts=s16:channel_layouts=mono[wave]`);

  const args = ["-nostdin", "-hide_banner", "-nostats", "-v", "error", "-y", "-i", input.source.sourcePath];
  if (chaptersFile) args.push("-f", "ffmetadata", "-i", chaptersFile);
  args.push("-filter_complex", filters.join(";"));
  const tags = input.tags;
  const meta = [
    ["title", tags.title],
    ["artist", tags.artist],
    ["album", tags.album],
    ["genre", "Podcast"],
    ...(tags.date ? [["date", tags.date]] : []),
  ];
  for (const s of specs) {
    // Tags come only from us (never the creator's file); with chapters, metadata must map from the
    // chapters input, because "-map_metadata -1" would also drop the chapter titles.
    args.push("-map", `[out_${s.id}]`, "-map_metadata", chaptersFile ? "1" : "-1", "-map_chapters", chaptersFile ? "1" : "-1");
    for (const [k, v] of meta) args.push("-metadata", `${k}=${v}`);
    args.push(...codecArgs(s), path.join(outDir, s.file));
  }
  if (tap) args.push("-map", "[wave]", "-map_metadata", "-1", "-f", "s16le", "-c:a", "pcm_s16le", tap.path);
  return args;
}

function codecArgs(s: RenditionSpec): string[] {
  const b = ["-b:a", `${s.bitrateKbps}k`, "-ar", String(s.sampleRate)];
  switch (s.codec) {
    case "mp3":
      return ["-c:a", "libmp3lame", ...b, "-id3v2_version", "4", "-write_id3v1", "0"];
    case "aac":
      // +faststart: the index up front, so players start before the whole file arrives.
      return ["-c:a", "aac", ...b, "-movflags", "+faststart"];
    case "opus":
      return ["-c:a", "libopus", ...b, "-application", "audio", "-f", "opus"];
  }
}
