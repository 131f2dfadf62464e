/**
 * Stage 3, audio.transcode: the five renditions and the waveform tap, encoded
 * from the mastered file normalize rendered (the shared chain already ran).
 * This file is the scheduling and the accept/correct/warn policy; the filter
 * graph is processor/media/filter-graph.ts, the encoders
 * processor/media/encoders.ts, cover art processor/media/cover-art.ts.
 *
 * ffmpeg 5.1 runs every encoder of a process on one thread, so the encoders
 * are split over three processes run through the job's slots (one per core),
 * each decoding the mastered file once and feeding its encoders through
 * asplit (see PROCESS_GROUPS). Every rendition is then measured independently
 * (ebur128, true peak, on the finished file). One that misses the target is
 * encoded again with the measured difference as correction, at most twice
 * (counted: audio.rendition.corrected), unless it is Opus and a gain alone
 * brings it on target: that is set in its header (opus-gain.ts), exactly and
 * without encoding again. One that still misses is published with a
 * loudness warning (episode record, status API, error status on its span).
 * Loudness is the processor's job: it never refuses an episode.
 */
import { writeFile, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { SpanStatusCode } from "@opentelemetry/api";
import type { Chapter } from "../../shared/episode.ts";
import type { LoudnessTarget } from "../../shared/podcast.ts";
import { renditionSpec, type RenditionId, type RenditionSpec } from "../../shared/renditions.ts";
import { ATTR, SPANS } from "../../shared/telemetry.ts";
import { vorbisChapterComments } from "../media/chapter-tags.ts";
import { chooseCoverArt, type CoverArt } from "../media/cover-art.ts";
import { codecArgs } from "../media/encoders.ts";
import { ffmetadataChapters } from "../media/ffmetadata.ts";
import { branchFilters, type BranchPlan } from "../media/filter-graph.ts";
import { measureLoudness, predictLimitedLufs, type LoudnessMeasurement } from "../media/loudness.ts";
import { addOpusOutputGain } from "../media/opus-gain.ts";
import { Slots } from "../media/slots.ts";
import { runFfmpeg } from "../media/tools.ts";
import { tracedStep } from "../traced-step.ts";
import type { StageContext } from "./context.ts";
import type { LoudnessPlan } from "./normalize.ts";
import type { SourceAudio } from "./validate.ts";

export type { CoverArt } from "../media/cover-art.ts";

export interface EpisodeTags {
  title: string;
  artist: string;
  album: string;
  /** ISO date of publication (year is what players show). */
  date?: string;
  /** The episode's description: ID3 COMM (written by the metadata stage), MP4 ©cmt, Vorbis COMMENT. */
  comment?: string;
}

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
  /** The branch it was encoded with (after any correction). */
  branch: BranchPlan;
  /** It needed a second full encode. */
  corrected: boolean;
  /** Opus only: the output gain set in its header instead of a second encode (opusTrim), dB. */
  outputGainDb?: number;
  /** Why it still misses the target after the processor's best effort (published anyway). */
  warning?: string;
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
 * running side by side, not on one core waiting for the other. (Measured on
 * the bench's hour of speech: 485 s against 513 s for two processes.)
 * The waveform tap rides on the MP3 process, the cheapest.
 */
export const PROCESS_GROUPS: readonly { renditions: readonly RenditionId[]; waveformTap?: true }[] = [
  { renditions: ["aac_64k", "opus_48k"] },
  { renditions: ["aac_128k"] },
  { renditions: ["mp3_128k", "mp3_64k"], waveformTap: true },
];

/** Full re-encodes of one rendition at most after its first, before it is published with a warning. */
export const MAX_CORRECTIONS = 2;
/** Room kept under the ceiling when a correction scales a branch: the encoder's overshoot moves a little with level. */
const SCALE_MARGIN_DB = 0.2;

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
  const cover = await chooseCoverArt(input.source, input.artworkUrl, ctx.jobDir, ctx.tools, ctx.span, ctx.signal);
  const waveformTap: WaveformTap = { path: path.join(ctx.jobDir, "waveform.pcm"), sampleRate: WAVEFORM_TAP_RATE };
  const slots = ctx.slots ?? new Slots();
  const extra = { chaptersFile, cover };
  ctx.span.setAttribute(
    ATTR.formatCount,
    PROCESS_GROUPS.reduce((n, g) => n + g.renditions.length, 0),
  );

  // Each process group is encoded once; its renditions' spans wait for it, then check (and correct) themselves.
  const groups = new Map<RenditionId, Promise<void>>();
  for (const g of PROCESS_GROUPS) {
    const specs = g.renditions.map(renditionSpec);
    const run = slots.run(() =>
      runFfmpeg(ctx.tools, encodeArgs(input, specs, outDir, { ...extra, tap: g.waveformTap ? waveformTap : undefined }), {
        signal: ctx.signal,
      }),
    );
    run.catch(() => undefined); // awaited (and reported) by each of its renditions
    for (const id of g.renditions)
      groups.set(
        id,
        run.then(() => undefined),
      );
  }

  const renditions = await Promise.all(
    PROCESS_GROUPS.flatMap((g) => g.renditions).map((id) =>
      tracedStep(SPANS.rendition(id), { attributes: { [ATTR.renditionId]: id } }, async (span) => {
        const spec = renditionSpec(id);
        const file = path.join(outDir, spec.file);
        await groups.get(id)!;
        let branch = input.plan.branches[id];
        let m = await slots.run(() => measureLoudness(ctx.tools, file, ctx.signal));
        let corrected = false;
        let outputGainDb: number | undefined;
        const trim = spec.codec === "opus" && checkLoudness(id, m, input.plan) ? opusTrim(m, input.plan.target) : undefined;
        if (trim !== undefined) {
          outputGainDb = await addOpusOutputGain(file, trim);
          const before = m;
          m = await slots.run(() => measureLoudness(ctx.tools, file, ctx.signal));
          span.addEvent("loudness trimmed by the opus output gain", {
            "audio.loudness.first_pass_lufs": before.integratedLufs,
            "audio.loudness.first_pass_true_peak_dbtp": before.truePeakDbtp,
            "audio.loudness.output_gain_db": outputGainDb,
          });
        }
        for (let attempt = 1; attempt <= MAX_CORRECTIONS && checkLoudness(id, m, input.plan); attempt++) {
          // Another full encode, alone, with what was measured as its correction: rare by design.
          corrected = true;
          branch = correctBranch(branch, m, input.plan, attempt);
          span.addEvent("loudness correction", {
            "audio.loudness.first_pass_lufs": m.integratedLufs,
            "audio.loudness.first_pass_true_peak_dbtp": m.truePeakDbtp,
            "audio.loudness.correction_db": branch.extraGainDb ?? 0,
          });
          const again = { ...input, plan: { ...input.plan, branches: { ...input.plan.branches, [id]: branch } } };
          await slots.run(() => runFfmpeg(ctx.tools, encodeArgs(again, [spec], outDir, extra), { signal: ctx.signal }));
          outputGainDb = undefined; // a new file, with its header's gain at 0
          m = await slots.run(() => measureLoudness(ctx.tools, file, ctx.signal));
        }
        const warning = checkLoudness(id, m, input.plan);
        const bytes = (await stat(file)).size;
        span.setAttributes({
          [ATTR.outputSize]: bytes,
          [ATTR.codec]: spec.codec,
          [ATTR.bitrate]: spec.bitrateKbps * 1000,
          [ATTR.sampleRate]: spec.sampleRate,
          [ATTR.channels]: input.plan.chain.channels,
          [ATTR.renditionLoudness(id)]: m.integratedLufs,
          [ATTR.renditionTruePeak(id)]: m.truePeakDbtp,
          [ATTR.renditionNormalized]: warning === undefined,
          [ATTR.renditionCorrected]: corrected,
          "audio.loudness.output_gain_db": outputGainDb ?? 0,
          "audio.loudness.limiter_ceiling_db": branch.limiterCeilingDb ?? 0,
          "audio.loudness.limited": branch.limiterCeilingDb !== undefined,
          "audio.loudness.extra_gain_db": branch.extraGainDb ?? 0,
          "audio.loudness.encoder_overshoot_db": input.plan.calibration[id].encoderOvershootDb,
          "audio.loudness.encoder_overshoot_heard_db": input.plan.calibration[id].heardOvershootDb,
          "audio.loudness.encoder_loss_lu": input.plan.calibration[id].encoderLossLu,
          "audio.loudness.calibration_rounds": input.plan.calibration[id].rounds,
        });
        if (warning) {
          span.setAttribute(ATTR.loudnessWarning, warning);
          span.setStatus({ code: SpanStatusCode.ERROR, message: warning });
        }
        return {
          spec,
          path: file,
          bytes,
          loudness: { integratedLufs: m.integratedLufs, truePeakDbtp: m.truePeakDbtp },
          branch,
          corrected,
          ...(outputGainDb !== undefined ? { outputGainDb } : {}),
          ...(warning ? { warning } : {}),
        };
      }),
    ),
  );

  for (const r of renditions) {
    ctx.span.setAttributes({
      [ATTR.renditionLoudness(r.spec.id)]: r.loudness.integratedLufs,
      [ATTR.renditionTruePeak(r.spec.id)]: r.loudness.truePeakDbtp,
    });
  }
  const corrected = renditions.filter((r) => r.corrected).map((r) => r.spec.id);
  ctx.span.setAttribute(
    "audio.transcode.trimmed_renditions",
    renditions.filter((r) => r.outputGainDb !== undefined).map((r) => r.spec.id),
  );
  const warned = renditions.filter((r) => r.warning).map((r) => r.spec.id);
  ctx.span.setAttributes({ "audio.transcode.corrected_renditions": corrected, "audio.transcode.second_encodes": corrected.length });
  if (warned.length) ctx.span.setAttribute(ATTR.loudnessWarning, `${warned.join(", ")} missed the loudness target`);
  return { renditions, waveformTap };
}

/**
 * The branch for another encode: the measured loudness difference as extra
 * gain and, when the peak was hot (or the extra gain will make it so), a
 * limiter lowered by the excess. What the lower limiter will take from the
 * loudness is predicted from the mastered signal's blocks with the loss per
 * dB this episode's shared limiter showed, and made up in the same step.
 */
function correctBranch(b: BranchPlan, m: LoudnessMeasurement, plan: LoudnessPlan, attempt: number): BranchPlan {
  const before = b.extraGainDb ?? 0;
  const offset = plan.target.integratedLufs - m.integratedLufs;
  // Only the loudness missed, and the peak has room for the difference: the branch's gain and its
  // limiter's ceiling both move by it, which is the same output scaled (a limiter scales with its
  // input and ceiling; the band limit is linear), so loudness moves by exactly that and the peak with it.
  // Models of what a limiter takes are not needed, so they cannot mispredict (speech with claps did).
  const scaledCeiling = b.limiterCeilingDb === undefined ? undefined : b.limiterCeilingDb + offset;
  if (m.truePeakDbtp + offset <= plan.target.truePeakDbtp - SCALE_MARGIN_DB && (scaledCeiling === undefined || scaledCeiling <= 0)) {
    return { ...(scaledCeiling !== undefined ? { limiterCeilingDb: round2(scaledCeiling) } : {}), extraGainDb: round2(before + offset) };
  }
  // Lowered by the whole excess plus half a dB (a dB on the second try): the peak the encoder made
  // need not be where the fed peak was, and limiting changes what the encoder does.
  const excess = m.truePeakDbtp + Math.max(0, offset) - (plan.target.truePeakDbtp - 0.5 * attempt);
  let ceiling = b.limiterCeilingDb;
  if (excess > 0) ceiling = round2(Math.min(ceiling ?? Infinity, plan.predictedTruePeakDbtp + before) - excess);
  const loss = (extra: number, c: number | undefined) =>
    c === undefined || !plan.blocks
      ? 0
      : predictLimitedLufs(plan.blocks, plan.gainDb + extra) -
        predictLimitedLufs(plan.blocks, plan.gainDb + extra, c, plan.limiterLossPerDb);
  let extra = before + offset;
  for (let i = 0; i < 4; i++) extra = before + offset + loss(extra, ceiling) - loss(before, b.limiterCeilingDb);
  extra = Math.max(-12, Math.min(12, extra));
  return { ...(ceiling !== undefined ? { limiterCeilingDb: ceiling } : {}), ...(extra ? { extraGainDb: round2(extra) } : {}) };
}

/** Room the trim leaves on each side: ebur128 prints one decimal, so a figure is within 0.05 of the truth. */
const TRIM_MARGIN = 0.1;

/**
 * The gain that brings an Opus rendition that missed on target, or undefined
 * when no gain can: a true peak over the ceiling comes down to TRIM_MARGIN under
 * it, loudness moves to the target as far as the peak allows, and the loudness
 * must end within tolerance. A gain scales the decoded audio exactly, so the
 * rare large overshoots of a long episode (the bench's 3 hours: Opus at +2 dB
 * on 5 of its 37 000 hot frames, heard nowhere in calibration) cost a header
 * rewrite, not a second full encode.
 */
export function opusTrim(m: LoudnessMeasurement, target: LoudnessTarget): number | undefined {
  const peakRoom = target.truePeakDbtp - TRIM_MARGIN - m.truePeakDbtp;
  const gain = Math.min(peakRoom, target.integratedLufs - m.integratedLufs);
  if (!Number.isFinite(gain)) return undefined;
  const lufs = m.integratedLufs + gain;
  if (Math.abs(lufs - target.integratedLufs) > LOUDNESS_TOLERANCE_LU - TRIM_MARGIN) return undefined;
  return round2(gain);
}

/** Why a measured rendition misses the target, or undefined when it is within tolerance. */
export function checkLoudness(id: RenditionId, m: LoudnessMeasurement, plan: Pick<LoudnessPlan, "target">): string | undefined {
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

/** One ffmpeg invocation: decode the mastered file once, gain, split by sample rate, each rendition's branch, encode. */
export function encodeArgs(
  input: TranscodeInput,
  specs: RenditionSpec[],
  outDir: string,
  extra: { chaptersFile?: string; tap?: WaveformTap; cover?: CoverArt } = {},
): string[] {
  const { chaptersFile, tap, cover } = extra;
  const { plan } = input;
  const rates = [...new Set(specs.map((s) => s.sampleRate))];
  const filters: string[] = [];
  const head = `[0:a:0]volume=${plan.gainDb}dB:precision=float`;
  filters.push(`${head},asplit=${rates.length + (tap ? 1 : 0)}${rates.map((r) => `[r${r}]`).join("")}${tap ? "[tap]" : ""}`);
  for (const rate of rates) {
    const forRate = specs.filter((s) => s.sampleRate === rate);
    const split = forRate.length > 1 ? `,asplit=${forRate.length}` : "";
    const resample = rate === plan.chain.sampleRate ? "anull" : `aresample=${rate}`;
    filters.push(`[r${rate}]${resample}${split}${forRate.map((s) => `[pre_${s.id}]`).join("")}`);
    for (const s of forRate) filters.push(`[pre_${s.id}]${branchFilters(s, plan.branches[s.id], plan.chain.channels)}[out_${s.id}]`);
  }
  if (tap) filters.push(`[tap]aresample=${tap.sampleRate},aformat=sample_fmts=s16:channel_layouts=mono[wave]`);

  const args = ["-nostdin", "-hide_banner", "-nostats", "-v", "error", "-y", "-i", plan.masteredInput];
  if (chaptersFile) args.push("-f", "ffmetadata", "-i", chaptersFile);
  let coverMap: string | undefined;
  if (cover) {
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
    // chapters input, because "-map_metadata -1" would also drop the chapter titles. Ogg takes its
    // chapters as comments written here: ffmpeg 5.1's own CHAPTERxxx rounds the seconds (7.5 s -> 8.5 s).
    const muxChapters = chaptersFile !== undefined && s.codec !== "opus";
    args.push("-map", `[out_${s.id}]`, "-map_metadata", muxChapters ? "1" : "-1", "-map_chapters", muxChapters ? "1" : "-1");
    for (const [k, v] of meta) args.push("-metadata", `${k}=${v}`);
    if (s.codec === "opus") for (const [k, v] of vorbisChapterComments(input.chapters)) args.push("-metadata", `${k}=${v}`);
    if (coverMap && s.codec !== "opus") {
      // ID3 APIC (type from the stream's comment: front cover) / MP4 covr. ffmpeg 5.1's Ogg muxer cannot embed pictures.
      args.push(
        "-map",
        coverMap,
        "-c:v",
        "copy",
        "-disposition:v:0",
        "attached_pic",
        "-metadata:s:v:0",
        "comment=Cover (front)",
        "-metadata:s:v:0",
        "title=Cover",
      );
    }
    args.push(...codecArgs(s), path.join(outDir, s.file));
  }
  if (tap) args.push("-map", "[wave]", "-map_metadata", "-1", "-f", "s16le", "-c:a", "pcm_s16le", tap.path);
  return args;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
