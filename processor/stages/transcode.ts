/**
 * Stage 3, audio.transcode: the five renditions and the waveform tap from one
 * decode per ffmpeg process. ffmpeg 5.1 runs every encoder of a process on one
 * thread, so the encoders are split over three processes run two at a time
 * (one per core, see PROCESS_GROUPS), each decoding the source once and
 * feeding its encoders through asplit. Gain,
 * per-rendition limiters and extra gains come from the normalize plan; tags,
 * cover art and chapters are written by the same invocation.
 *
 * Every rendition is then measured independently (ebur128, true peak, on the
 * finished file) and must land within +-1 LU of the target and at or under the
 * true-peak ceiling. All ffmpeg runs share the job's slots (one per core), so
 * the checks of a process that has finished run while others still encode.
 * (Splitting each check in time over the cores, as the source's measurement
 * is, was tried and was no faster: the per-frame log that gating slices
 * together needs costs as much CPU as the idle tail it saves.)
 *
 * A rendition that misses is encoded once more with the measured difference
 * as correction; if it misses again the episode fails (loudness_out_of_range)
 * with both figures in the reason.
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
import { fetchArtwork } from "../media/artwork.ts";
import { bandLimit, codecArgs, encoderBandHz } from "../media/encoders.ts";
import { Slots } from "../media/slots.ts";
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
  /** The episode's description: ID3 COMM (written by the metadata stage), MP4 ©cmt, Vorbis COMMENT. */
  comment?: string;
}

/** Cover art to embed: the upload's own picture stream, or the podcast's artwork fetched into the job folder. */
export type CoverArt = { from: "upload"; streamIndex: number } | { from: "podcast"; path: string };

export interface TranscodeInput {
  source: SourceAudio;
  plan: LoudnessPlan;
  tags: EpisodeTags;
  chapters: Chapter[];
  /** The podcast's artwork, embedded when the upload carries no picture of its own. */
  artworkUrl?: string;
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
 * The encoder processes, one decode each, run through the job's slots (one
 * ffmpeg per core) in this order; each rendition's check is queued as its
 * process ends. Three processes on two cores, longest first, so that the
 * short one fills the core that frees first and the job ends on two checks
 * running side by side, not on one core waiting for the other.
 *
 * Why these: on the bench's hour of speech the two-process split
 * (AAC 128k + MP3 64k | AAC 64k + MP3 128k + Opus) took 336 and 422 CPU s, so
 * one core idled 33 s waiting and the last check ran alone for 29 s (traced:
 * 513 s; 485 s with these groups). Estimated costs per hour,
 * encode only: AAC 128k ~260, AAC 64k ~225 (band-limited input makes ffmpeg's
 * AAC encoder ~15% slower), Opus ~115, MP3 128k ~80, MP3 64k ~75; each check
 * ~25-30. The extra process costs one more decode (~4 CPU s per hour of WAV).
 * The waveform tap rides on the MP3 process, the cheapest.
 */
export const PROCESS_GROUPS: readonly { renditions: readonly RenditionId[]; waveformTap?: true }[] = [
  { renditions: ["aac_64k", "opus_48k"] },
  { renditions: ["aac_128k"] },
  { renditions: ["mp3_128k", "mp3_64k"], waveformTap: true },
];

/** Loudness tolerance of every rendition around the target, LU (issue #4). */
export const LOUDNESS_TOLERANCE_LU = 1;

export async function transcode(input: TranscodeInput, ctx: StageContext): Promise<TranscodeOutput> {
  const outDir = path.join(ctx.jobDir, "renditions");
  await mkdir(outDir, { recursive: true });
  let chaptersFile: string | undefined;
  if (input.chapters.length) {
    chaptersFile = path.join(ctx.jobDir, "chapters.ffmeta");
    await writeFile(chaptersFile, ffmetadataChapters(input.chapters, input.source.durationSeconds));
  }
  const cover = await coverArt(input, ctx);
  const waveformTap: WaveformTap = { path: path.join(ctx.jobDir, "waveform.pcm"), sampleRate: WAVEFORM_TAP_RATE };
  const tracer = trace.getTracer("podcast-processor");
  const parent = trace.setSpan(context.active(), ctx.span);
  const ids = PROCESS_GROUPS.flatMap((g) => g.renditions);
  const spans = new Map<RenditionId, Span>(
    ids.map((id) => [id, tracer.startSpan(SPANS.rendition(id), { attributes: { [ATTR.renditionId]: id } }, parent)]),
  );
  const branches = { ...input.plan.branches };
  const measured = new Map<RenditionId, LoudnessMeasurement>();
  const slots = ctx.slots ?? new Slots();

  /**
   * Encodes renditions in one process (one decode), then measures each output
   * as its own job: with at most one ffmpeg per core, the checks of the first
   * process to finish run while the other still encodes.
   */
  const encodeAndMeasure = async (specs: RenditionSpec[], withTap: boolean) => {
    const args = encodeArgs({ ...input, plan: { ...input.plan, branches } }, specs, outDir, {
      chaptersFile,
      tap: withTap ? waveformTap : undefined,
      cover,
    });
    await slots.run(() => runTool(ctx.tools.ffmpeg, args, { signal: ctx.signal }));
    await Promise.all(
      specs.map((spec) =>
        slots.run(async () => measured.set(spec.id, await measureLoudness(ctx.tools, path.join(outDir, spec.file), ctx.signal))),
      ),
    );
  };

  try {
    await Promise.all(PROCESS_GROUPS.map((g) => encodeAndMeasure(g.renditions.map(renditionSpec), g.waveformTap === true)));
    // Only a rendition that misses the target is encoded again, with what was measured as its correction.
    const again = ids.filter((id) => checkLoudness(id, measured.get(id)!, input.plan) !== undefined);
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
      await Promise.all(again.map((id) => encodeAndMeasure([renditionSpec(id)], false)));
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
  extra: { chaptersFile?: string; tap?: WaveformTap; cover?: CoverArt } = {},
): string[] {
  const { chaptersFile, tap, cover } = extra;
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
      // A limited branch is first cut to the band its encoder keeps, so the limiter works on what will be
      // encoded: the encoder cutting the treble after limiting rings above the limit (on the bench's hour
      // of peaky speech, AAC 64k's true peak went from -0.1 to -1.6 dBTP, loudness unchanged).
      const hz = ceiling !== undefined ? encoderBandHz(s, input.source.channels) : undefined;
      const band = hz ? `${bandLimit(hz)},` : "";
      // level=0: alimiter otherwise "auto-levels" its output up to the limit; latency=1 keeps the branches in sync.
      const limiter =
        ceiling === undefined
          ? "anull"
          : `alimiter=limit=${Math.max(10 ** (ceiling / 20), 0.0625).toFixed(5)}:level=0:latency=1:attack=5:release=50`;
      filters.push(`[pre_${s.id}]${band}${extra}${limiter}[out_${s.id}]`);
    }
  }
  if (tap) filters.push(`[tap]aresample=${tap.sampleRate},aformat=sample_fmts=s16:channel_layouts=mono[wave]`);

  const args = ["-nostdin", "-hide_banner", "-nostats", "-v", "error", "-y", "-i", input.source.sourcePath];
  if (chaptersFile) args.push("-f", "ffmetadata", "-i", chaptersFile);
  let coverMap: string | undefined;
  if (cover?.from === "upload") coverMap = `0:${cover.streamIndex}`;
  if (cover?.from === "podcast") {
    coverMap = `${chaptersFile ? 2 : 1}:v:0`;
    args.push("-i", cover.path);
  }
  args.push("-filter_complex", filters.join(";"));
  const tags = input.tags;
  const meta = [
    ["title", tags.title],
    ["artist", tags.artist],
    ["album", tags.album],
    ["genre", "Podcast"],
    ...(tags.date ? [["date", tags.date]] : []),
    ...(tags.comment ? [["comment", tags.comment]] : []),
  ];
  for (const s of specs) {
    // Tags come only from us (never the creator's file); with chapters, metadata must map from the
    // chapters input, because "-map_metadata -1" would also drop the chapter titles.
    args.push("-map", `[out_${s.id}]`, "-map_metadata", chaptersFile ? "1" : "-1", "-map_chapters", chaptersFile ? "1" : "-1");
    for (const [k, v] of meta) args.push("-metadata", `${k}=${v}`);
    if (coverMap && s.codec !== "opus") {
      // ID3 APIC (type from the stream's comment: front cover) / MP4 covr. ffmpeg 5.1's Ogg muxer cannot embed pictures.
      args.push("-map", coverMap, "-c:v", "copy", "-disposition:v:0", "attached_pic", "-metadata:s:v:0", "comment=Cover (front)", "-metadata:s:v:0", "title=Cover");
    }
    args.push(...codecArgs(s), path.join(outDir, s.file));
  }
  if (tap) args.push("-map", "[wave]", "-map_metadata", "-1", "-f", "s16le", "-c:a", "pcm_s16le", tap.path);
  return args;
}

/** The upload's own picture if it has one, else the podcast's artwork; a failed fetch is recorded, never fatal. */
async function coverArt(input: TranscodeInput, ctx: StageContext): Promise<CoverArt | undefined> {
  let cover: CoverArt | undefined;
  if (input.source.coverStreamIndex !== undefined) {
    cover = { from: "upload", streamIndex: input.source.coverStreamIndex };
  } else if (input.artworkUrl) {
    const art = await fetchArtwork(input.artworkUrl, ctx.jobDir, { signal: ctx.signal });
    if ("error" in art) {
      ctx.span.setAttribute("audio.artwork.error", art.error);
      ctx.span.addEvent("artwork unavailable", { "audio.artwork.error": art.error });
    } else {
      cover = { from: "podcast", path: art.path };
      ctx.span.setAttributes({ "audio.artwork.bytes": art.bytes, "audio.artwork.mime_type": art.mimeType });
    }
  }
  ctx.span.setAttribute("audio.artwork.source", cover?.from ?? "none");
  return cover;
}
