/**
 * Stage 2, audio.normalize: the mastering plan, and the one pass that applies
 * its shared part.
 *
 * 1. Analyse the source (processor/media/analysis.ts): loudness, LRA, true
 *    peak, peak-to-loudness ratio (PLR), per-channel level, DC, rumble.
 * 2. Plan the shared chain (processor/media/filter-graph.ts): the live channel
 *    of a stereo file with a dead one, a downmix of more than two channels,
 *    DC removal, a rumble high-pass, a speech leveller where the loudness
 *    range is wider than the target allows, a gain to the target, and a gentle
 *    compressor where the PLR is. Loud, already-mastered input is only turned
 *    down.
 * 3. Render the chain once to the job's mastered file (float WAV at 44.1 kHz),
 *    measuring it on the way out (ebur128, true peak, per 100 ms).
 * 4. Calibrate every rendition on this episode: its branch (gain, band, a
 *    limiter at a trial ceiling) and its encoder run over an excerpt of 1 s
 *    windows of the mastered signal (3 to 16: ~one per 3 s of a short episode)
 *    where encoders overshoot most: the start, the sharpest attacks, the
 *    hottest peaks (see excerptStarts), measured before and after encoding.
 *    That gives each rendition's limiter ceiling (what the limiter lets
 *    through between samples plus what the encoder adds) and its make-up gain
 *    (what the encoder takes from the loudness). Then the planned branch is
 *    verified on every window, those and as many others held out: their
 *    overshoot counts too, what the branch's limiter took from their loudness
 *    re-fits its loss model for the whole, and a peak over the ceiling lowers
 *    the limiter and sends the new branch round again (at most 3 times).
 *    Windows are cut on each encoder's frame grid. No constant fitted to one
 *    input remains.
 * Transcode then encodes every rendition from the mastered file, once.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import type { LoudnessTarget } from "../../shared/podcast.ts";
import { RENDITIONS, type RenditionId, type RenditionSpec } from "../../shared/renditions.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { InputRejected } from "../errors.ts";
import { analyseSource, type SourceAnalysis } from "../media/analysis.ts";
import { codecArgs, frameGridSamples } from "../media/encoders.ts";
import { branchFilters, masteringFilters, type BranchPlan, type MasteringChain } from "../media/filter-graph.ts";
import {
  BlockHistogram,
  Ebur128Log,
  LIMITER_LOSS_PER_DB,
  measureLoudness,
  predictLimitedLufs,
  type LoudnessMeasurement,
} from "../media/loudness.ts";
import { Slots } from "../media/slots.ts";
import { runTool } from "../media/tools.ts";
import type { StageContext } from "./context.ts";
import type { SourceAudio } from "./validate.ts";

export type { BranchPlan } from "../media/filter-graph.ts";

export interface NormalizeInput {
  source: SourceAudio;
  target: LoudnessTarget;
}

/** What calibration measured for one rendition on this episode's excerpt. */
export interface Calibration {
  /** True peak the encoder added over what it was fed, dB. */
  encoderOvershootDb: number;
  /** True peak the sample-peak limiter let through above its ceiling, dB (0 when it did not limit). */
  limiterLeakDb: number;
  /** Loudness the encoder took away, LU. */
  encoderLossLu: number;
  /** Calibration rounds: the first, then each verification of the planned branch. */
  rounds: number;
}

export interface LoudnessPlan {
  target: LoudnessTarget;
  inputLufs: number;
  inputTruePeakDbtp: number;
  inputLoudnessRangeLu: number;
  /** The shared chain, applied once. */
  chain: MasteringChain;
  /** The mastered signal (float WAV at chain.sampleRate) that every rendition is encoded from. */
  masteredPath: string;
  mastered: LoudnessMeasurement;
  /** Sample-peak ceiling (dBFS) of the shared limiter, run at twice the rate; absent when the peaks never reach it. */
  limiterCeilingDb?: number;
  /** The gain every branch applies to the mastered signal, dB (target minus its loudness). */
  gainDb: number;
  /** True peak the mastered signal would have after that gain, before any limiting. */
  predictedTruePeakDbtp: number;
  branches: Record<RenditionId, BranchPlan>;
  calibration: Record<RenditionId, Calibration>;
  /** The mastered signal's 400 ms blocks (loudness, true peak), and the limiter loss per dB this episode showed: transcode's corrections predict with them. */
  blocks?: BlockHistogram;
  limiterLossPerDb?: number;
}

/** Below this the source is silence (ebur128's absolute gate is -70 LUFS): there is nothing to normalise. */
const SILENCE_LUFS = -69.9;
/** A channel this far under the loudest one is dead (a mic on one side only). */
const DEAD_CHANNEL_DB = 30;
/** DC offset worth removing (-54 dBFS). */
const DC_THRESHOLD = 0.002;
/** Loudness range above which voices are levelled (speech is typically 3-8 LU). */
const LEVELLER_LRA_LU = 10;
/**
 * Peak-to-loudness ratio the limiter alone may take down, dB: beyond
 * (ceiling - target) + this, the gentle compressor runs first so the limiter
 * does not flatten speech.
 */
const LIMITER_ONLY_PLR_EXCESS_DB = 3;
/**
 * The shared limiter's ceiling under the true-peak ceiling, dB: room for what a
 * sample-peak limiter lets through between samples and for the gentler
 * encoders' overshoot; renditions that overshoot more get a limiter of their own.
 */
const SHARED_LIMITER_HEADROOM_DB = 1.5;
/** Passes of the gain + limiter over the shaped signal at most (see renderMaster). */
const MASTER_PASSES = 3;
/** Margin kept under the ceiling by calibrated branches (ebur128 reports 0.1 dB steps). */
const CEILING_MARGIN_DB = 0.5;
/** Verifications of a rendition's planned branch on the excerpt at most (each after the branch changed). */
const VERIFY_ROUNDS = 3;
/** A verified excerpt's peaks stay this far under the ceiling: the full encode is another draw at its attacks. */
const VERIFY_MARGIN_DB = 0.2;
/**
 * Seconds of the mastered signal around each passage that calibration encodes: half a second of
 * the encoder's run-up, then the passage. Short, so that a round samples many attacks: each is a
 * draw of the encoder's overshoot (2 s windows left every other clap of a clapping audience unheard).
 */
const EXCERPT_WINDOW_S = 1;
/** At most this many windows (16 s), and about one per 3 s of a short episode, so calibration stays small beside the encode. */
const EXCERPT_WINDOWS = 16;
const excerptWindows = (duration: number) => Math.max(3, Math.min(EXCERPT_WINDOWS, Math.round(duration / 3)));

export async function normalize(input: NormalizeInput, ctx: StageContext): Promise<LoudnessPlan> {
  const slots = ctx.slots ?? new Slots();
  const { source, target } = input;
  const a = await analyseSource(ctx.tools, source.sourcePath, source.durationSeconds, slots, ctx.signal);
  if (!Number.isFinite(a.integratedLufs) || a.integratedLufs <= SILENCE_LUFS) {
    throw new InputRejected("silent", "silent audio: no measurable loudness (below -70 LUFS)");
  }
  const chain = planChain(target, a, source);
  const masteredPath = path.join(ctx.jobDir, "mastered.wav");
  const master = await renderMaster(ctx, slots, source, chain, target, masteredPath);
  const gainDb = round2(target.integratedLufs - master.measured.integratedLufs);
  // Two sets of passages: one to learn the branches on, one held out to check them.
  const windows = excerptWindows(source.durationSeconds);
  const learnStarts = excerptStarts(master.frames, windows, source.durationSeconds);
  const checkStarts = excerptStarts(master.frames, windows, source.durationSeconds, learnStarts);
  // Cut on each encoder's frame grid (see frameGridSamples): one pair of excerpts per grid.
  const excerpts = new Map<number, { learn: string; held?: string }>();
  for (const grid of new Set(RENDITIONS.map((r) => frameGridSamples(r, chain.sampleRate)))) {
    const learn = path.join(ctx.jobDir, `excerpt-${grid}.wav`);
    const held = path.join(ctx.jobDir, `excerpt-${grid}-check.wav`);
    const whole = await cutExcerpt(ctx, masteredPath, learnStarts, source.durationSeconds, learn, grid, chain.sampleRate);
    const check = !whole && checkStarts.length > 0;
    if (check) await cutExcerpt(ctx, masteredPath, checkStarts, source.durationSeconds, held, grid, chain.sampleRate);
    excerpts.set(grid, { learn, ...(check ? { held } : {}) });
  }

  const branches = {} as Record<RenditionId, BranchPlan>;
  const calibration = {} as Record<RenditionId, Calibration>;
  await Promise.all(
    RENDITIONS.map(async (spec) => {
      const cut = excerpts.get(frameGridSamples(spec, chain.sampleRate))!;
      const c = await calibrateRendition(
        ctx,
        slots,
        spec,
        cut.learn,
        cut.held,
        chain.channels,
        gainDb,
        master.measured.truePeakDbtp,
        master.blocks,
        target,
        master.lossPerDb,
      );
      branches[spec.id] = c.branch;
      calibration[spec.id] = c.calibration;
    }),
  );
  await Promise.all([...excerpts.values()].flatMap((e) => [e.learn, e.held ?? e.learn]).map((f) => rm(f, { force: true })));

  const plan: LoudnessPlan = {
    target,
    inputLufs: a.integratedLufs,
    inputTruePeakDbtp: a.truePeakDbtp,
    inputLoudnessRangeLu: a.loudnessRangeLu,
    chain,
    masteredPath,
    mastered: master.measured,
    ...(master.limiterCeilingDb !== undefined ? { limiterCeilingDb: master.limiterCeilingDb } : {}),
    gainDb,
    predictedTruePeakDbtp: round2(master.measured.truePeakDbtp + gainDb),
    branches,
    calibration,
    blocks: master.blocks,
    limiterLossPerDb: master.lossPerDb ?? LIMITER_LOSS_PER_DB,
  };
  ctx.span.setAttributes({
    [ATTR.loudnessTarget]: target.integratedLufs,
    [ATTR.loudnessInput]: a.integratedLufs,
    [ATTR.truePeakInput]: a.truePeakDbtp,
    [ATTR.loudnessGain]: gainDb,
    "audio.loudness.target_true_peak_dbtp": target.truePeakDbtp,
    "audio.loudness.input_lra_lu": a.loudnessRangeLu,
    "audio.loudness.input_plr_db": round2(a.truePeakDbtp - a.integratedLufs),
    "audio.loudness.measured_in_parts": a.parts,
    "audio.loudness.mastered_lufs": master.measured.integratedLufs,
    "audio.chain.limiter_ceiling_db": master.limiterCeilingDb ?? 0,
    "audio.chain.limited": master.limiterCeilingDb !== undefined,
    "audio.chain.master_passes": master.passes,
    "audio.chain.limiter_loss_per_db": round2(master.lossPerDb ?? LIMITER_LOSS_PER_DB),
    "audio.loudness.mastered_lra_lu": master.measured.loudnessRangeLu,
    "audio.loudness.mastered_true_peak_dbtp": master.measured.truePeakDbtp,
    "audio.loudness.predicted_true_peak_dbtp": plan.predictedTruePeakDbtp,
    "audio.loudness.limited_renditions": RENDITIONS.filter((r) => branches[r.id].limiterCeilingDb !== undefined).map((r) => r.id),
    ...chainAttributes(chain, a, source),
  });
  for (const r of RENDITIONS) {
    ctx.span.setAttributes({
      [`audio.loudness.${r.id}.extra_gain_db`]: branches[r.id].extraGainDb ?? 0,
      [`audio.loudness.${r.id}.encoder_overshoot_db`]: calibration[r.id].encoderOvershootDb,
      [`audio.loudness.${r.id}.encoder_loss_lu`]: calibration[r.id].encoderLossLu,
    });
  }
  return plan;
}

/** What the chain does, as span attributes: a creator's support question answered from the trace. */
function chainAttributes(chain: MasteringChain, a: SourceAnalysis, source: SourceAudio): Record<string, string | number | boolean> {
  return {
    "audio.chain.channels": chain.channels,
    "audio.chain.sample_rate": chain.sampleRate,
    "audio.chain.dead_channel": chain.liveChannel === undefined ? "none" : chain.liveChannel === 0 ? "right" : "left",
    "audio.chain.downmix_from": chain.downmixFrom ?? source.channels,
    "audio.chain.dc_removed": chain.dcRemoval,
    "audio.chain.dc_offset": round4(Math.max(...a.channels.map((c) => Math.abs(c.dcOffset)))),
    "audio.chain.rumble_highpass_hz": chain.rumbleHighPassHz ?? 0,
    "audio.chain.levelled": chain.leveller !== undefined,
    "audio.chain.compressed": chain.compressor !== undefined,
    "audio.chain.compressor_threshold_db": chain.compressor?.thresholdDb ?? 0,
    "audio.chain.turned_down": chain.gainDb < 0 && !chain.compressor && !chain.leveller,
    "audio.chain.clipped_input": Math.max(...a.channels.map((c) => c.flatFactor)) >= 10,
  };
}

/** The shared chain for this source (see the file comment). */
export function planChain(target: LoudnessTarget, a: SourceAnalysis, source: Pick<SourceAudio, "channels" | "sampleRate">): MasteringChain {
  const loudest = Math.max(...a.channels.map((c) => c.rmsDb));
  let channels: 1 | 2 = source.channels === 1 ? 1 : 2;
  let liveChannel: 0 | 1 | undefined;
  if (source.channels === 2) {
    const dead = a.channels.findIndex((c) => c.rmsDb < loudest - DEAD_CHANNEL_DB);
    if (dead >= 0) {
      channels = 1;
      liveChannel = dead === 0 ? 1 : 0;
    }
  }
  const dcRemoval = a.channels.some((c) => Math.abs(c.dcOffset) >= DC_THRESHOLD);
  // Rumble or hum: the band under 60 Hz stays put through the speaker's pauses (its quietest
  // window within 3 dB of its mean) while the full band does pause (6 dB or more), and it is
  // within 30 dB of the programme. Music beds have no pauses: their bass is content.
  const rumble =
    Number.isFinite(a.lowTroughDb) &&
    a.lowTroughDb >= a.lowRmsDb - 3 &&
    a.fullTroughDb <= a.fullRmsDb - 6 &&
    a.lowRmsDb >= a.fullRmsDb - 30;
  // Levelling a dead channel's silence or a downmix changes the loudness: what the chain needs is
  // decided on the source's figures, and the mastered file is measured anyway.
  const monoFromStereo = liveChannel !== undefined ? 10 * Math.log10(2) : 0;
  const inputLufs = a.integratedLufs + monoFromStereo;
  // The leveller never lifts what is 25 dB under the programme (room tone, hum, breaths).
  const leveller =
    a.loudnessRangeLu > LEVELLER_LRA_LU
      ? { targetRmsDb: target.integratedLufs, maxGainDb: 20, floorDb: round2(a.integratedLufs - 25) }
      : undefined;
  const gainDb = leveller ? 0 : round2(target.integratedLufs - inputLufs);
  const plr = a.truePeakDbtp - a.integratedLufs;
  const allowed = target.truePeakDbtp - target.integratedLufs;
  // Loud, mastered input (its PLR already fits) is only turned down; raw, peaky input is compressed.
  const compressor =
    plr > allowed + LIMITER_ONLY_PLR_EXCESS_DB
      ? { thresholdDb: round2(target.integratedLufs + 6), ratio: 2.5, attackMs: 10, releaseMs: 200 }
      : undefined;
  return {
    channels,
    ...(liveChannel !== undefined ? { liveChannel } : {}),
    ...(source.channels > 2 ? { downmixFrom: source.channels } : {}),
    // 44.1 kHz: four of the five renditions are encoded at it with no resampling, and calibration's
    // excerpts then meet their encoders' frames at the full encode's phase on a fine grid (frameGridSamples).
    sampleRate: 44100,
    dcRemoval,
    ...(rumble ? { rumbleHighPassHz: 80 } : {}),
    ...(leveller ? { leveller } : {}),
    gainDb,
    ...(compressor ? { compressor } : {}),
  };
}

interface Master {
  measured: LoudnessMeasurement;
  /** The limiter's loudness loss per dB over its ceiling, as this episode's shared limiter showed. */
  lossPerDb?: number;
  blocks: BlockHistogram;
  /** Every 100 ms frame's time and true peak: where calibration listens is chosen from them (excerptStarts). */
  frames: { t: number; peak: number }[];
}

/** Runs `graph` (input [0:a:0], output [out]) into a float WAV, measuring the result as it is written. */
async function renderMeasured(ctx: StageContext, input: string, graph: string, out: string): Promise<Master> {
  const blocks = new BlockHistogram();
  const peaks: { t: number; peak: number }[] = [];
  const log = new Ebur128Log((f) => {
    blocks.add(f.m, f.blockPeak);
    peaks.push({ t: f.t, peak: f.peak });
  });
  await runTool(
    ctx.tools.ffmpeg,
    [
      "-nostdin",
      "-hide_banner",
      "-nostats",
      "-y",
      "-i",
      input,
      "-filter_complex",
      `${graph},asplit[w][m];[m]ebur128=peak=true:framelog=info[e]`,
      "-map",
      "[w]",
      "-map_metadata",
      "-1",
      "-c:a",
      "pcm_f32le",
      "-rf64",
      "auto",
      out,
      "-map",
      "[e]",
      "-f",
      "null",
      "-",
    ],
    { signal: ctx.signal, onStderrLine: (l) => void log.onLine(l) },
  );
  return { measured: log.summary(), blocks, frames: peaks };
}

/**
 * Where calibration listens: the passages where an encoder is likeliest to
 * overshoot, which are not only the loudest. Transform encoders (AAC's
 * 2048-sample blocks, Opus, MP3) smear a sharp attack over their block
 * (pre-echo): their largest peaks come at a word's attack after a pause or
 * at the very start, where the encoder begins from silence. Seen on the
 * corpus's misses: an interview's AAC 64k added 0.5 dB on its limited,
 * sustained peaks but 2.4-3.4 dB on three attacks after pauses; phone speech
 * starting mid-word got 1.8 dB from AAC 128k on its first 100 ms and 0 dB
 * anywhere else, and the excerpt (hottest peaks only, each faded in) saw
 * neither. So the windows are, in this order of choice: the start (kept
 * unfaded, as the encoder will see it), the sharpest attacks to a hot level
 * (the 100 ms frame's peak over the quieter of the two frames before it, among
 * frames within 3 dB of the loudest peak), then the hottest peaks; at most
 * `count` windows of EXCERPT_WINDOW_S, none overlapping each other or `exclude`
 * (the held-out set is chosen the same way from what the first left).
 */
export function excerptStarts(
  frames: readonly { t: number; peak: number }[],
  count: number,
  duration: number,
  exclude: readonly number[] = [],
): number[] {
  const w = EXCERPT_WINDOW_S;
  const starts: number[] = [];
  const take = (centre: number) => {
    if (starts.length >= count) return;
    const start = clamp(centre - w / 2, 0, Math.max(0, duration - w));
    if ([...starts, ...exclude].every((s) => Math.abs(s - start) >= w)) starts.push(start);
  };
  if (!frames.length) return [];
  take(w / 2);
  const loudest = Math.max(...frames.map((f) => f.peak));
  const attacks = frames
    .map((f, i) => ({ t: f.t, rise: i < 2 ? 0 : f.peak - Math.min(frames[i - 1]!.peak, frames[i - 2]!.peak), hot: f.peak >= loudest - 3 }))
    .filter((a) => a.hot && a.rise > 0)
    .sort((x, y) => y.rise - x.rise);
  const attackWindows = Math.ceil((count - 1) / 2);
  for (const a of attacks) {
    if (starts.length >= 1 + attackWindows) break;
    take(a.t);
  }
  for (const p of [...frames].sort((x, y) => y.peak - x.peak)) {
    // A window 20 dB under the loudest peak (a pause, the silence after the last word) tells nothing.
    if (starts.length >= count || p.peak < loudest - 20) break;
    take(p.t);
  }
  return starts.sort((x, y) => x - y);
}

/**
 * The shared chain in two passes: the chain up to the compressor (its effect
 * on loudness is measured, not guessed), then the gain to the target and the
 * shared limiter. The limiter's own loss depends on the content (claps lose
 * far more than speech), so the second pass is repeated with the measured
 * difference until the master is within 0.3 LU (one pass for most inputs).
 */
async function renderMaster(
  ctx: StageContext,
  slots: Slots,
  source: SourceAudio,
  chain: MasteringChain,
  target: LoudnessTarget,
  out: string,
): Promise<Master & { limiterCeilingDb?: number; passes: number }> {
  const shaped = path.join(ctx.jobDir, "shaped.wav");
  const first = await slots.run(() => renderMeasured(ctx, source.sourcePath, `[0:a:0]${masteringFilters(chain, source.channels)}`, shaped));
  const ceiling = target.truePeakDbtp - SHARED_LIMITER_HEADROOM_DB;
  // No limiter where the gain leaves the peaks under it (loud, mastered input turned down; tones).
  const limit = first.measured.truePeakDbtp + target.integratedLufs - first.measured.integratedLufs > ceiling;
  const shapedLufs = first.measured.integratedLufs;
  // The limiter's loss per dB over the ceiling: the speech fit to start with, then what this episode showed.
  let lossPerDb = LIMITER_LOSS_PER_DB;
  const gainFor = () => {
    let g = target.integratedLufs - shapedLufs;
    if (!limit) return g;
    for (let i = 0; i < 6; i++) {
      const loss = predictLimitedLufs(first.blocks, g) - predictLimitedLufs(first.blocks, g, ceiling, lossPerDb);
      g = Math.min(target.integratedLufs - shapedLufs + 12, target.integratedLufs - shapedLufs + loss);
    }
    return g;
  };
  let gain = gainFor();
  let master: Master | undefined;
  let passes = 0;
  for (; passes < MASTER_PASSES; ) {
    // At twice the rate: at the delivery rate alimiter let clap transients through at +2.1 dBTP
    // against a -2.5 dBFS limit (it sees samples, not what lies between them); at 2x it held -1.8.
    const graph = `[0:a:0]volume=${gain.toFixed(2)}dB:precision=float${limit ? oversampledLimiter(ceiling, chain.sampleRate) : ""}`;
    master = await slots.run(() => renderMeasured(ctx, shaped, graph, out));
    passes++;
    const off = target.integratedLufs - master.measured.integratedLufs;
    if (Math.abs(off) <= 0.3 || !limit) break;
    const predicted = predictLimitedLufs(first.blocks, gain) - predictLimitedLufs(first.blocks, gain, ceiling, lossPerDb);
    const actual = shapedLufs + gain - master.measured.integratedLufs;
    if (predicted > 0.05) lossPerDb = Math.min(1, Math.max(0.05, (lossPerDb * actual) / predicted));
    const next = gainFor();
    gain = Math.abs(next - gain) > 0.1 ? next : gain + off;
  }
  master = { ...master!, lossPerDb } as Master;
  await rm(shaped, { force: true });
  return { ...master!, ...(limit ? { limiterCeilingDb: round2(ceiling) } : {}), passes };
}

/** alimiter at twice the working rate (see renderMaster). */
function oversampledLimiter(ceilingDb: number, rate: number): string {
  return `,aresample=${rate * 2},alimiter=limit=${(10 ** (ceilingDb / 20)).toFixed(5)}:level=0:latency=1:attack=5:release=50,aresample=${rate}`;
}

/**
 * The excerpt's windows (start times) joined, faded at the joins (a hard cut
 * would be a click, a peak of its own). Each window starts on the encoder's
 * frame grid (`grid` samples at `rate`, at or before its start) and lasts a
 * whole number of grid steps, so every window of the joined excerpt meets
 * the encoder's frames at the phase the full encode meets them; the
 * window's first half is the encoder's run-up (a window is centred on the
 * passage it is cut for).
 * A window at the very start is not faded in: the encoder starts there from
 * silence in the full encode too.
 */
async function cutExcerpt(
  ctx: StageContext,
  mastered: string,
  starts: number[],
  duration: number,
  out: string,
  grid: number,
  rate: number,
): Promise<boolean> {
  if (duration <= EXCERPT_WINDOW_S * starts.length * 1.5 || starts.length === 0) {
    // A short episode: the whole of it (true).
    await runTool(ctx.tools.ffmpeg, ["-nostdin", "-v", "error", "-y", "-i", mastered, "-c:a", "pcm_f32le", out], { signal: ctx.signal });
    return true;
  }
  const length = Math.ceil((EXCERPT_WINDOW_S * rate) / grid) * grid;
  const fade = Math.round(rate * 0.02);
  const inputs: string[] = [];
  const filters: string[] = [];
  starts.forEach((start, i) => {
    const first = Math.floor((start * rate) / grid) * grid;
    // -ss on a WAV is sample-exact (checked against atrim=start_sample), and so is atrim's length.
    inputs.push("-ss", (first / rate).toFixed(6), "-i", mastered);
    const fadeIn = first > 0 ? `,afade=t=in:nb_samples=${fade}` : "";
    filters.push(`[${i}:a]atrim=end_sample=${length}${fadeIn},afade=t=out:start_sample=${length - fade}:nb_samples=${fade}[x${i}]`);
  });
  filters.push(`${starts.map((_, i) => `[x${i}]`).join("")}concat=n=${starts.length}:v=0:a=1[out]`);
  await runTool(
    ctx.tools.ffmpeg,
    ["-nostdin", "-v", "error", "-y", ...inputs, "-filter_complex", filters.join(";"), "-map", "[out]", "-c:a", "pcm_f32le", out],
    { signal: ctx.signal },
  );
  return false;
}

/**
 * The excerpt through one rendition's gain, branch and encoder: measured
 * before the branch's limiter (`unlimited`, with its 400 ms blocks), as fed to
 * the encoder (`fed`) and as encoded. Both ebur128 instances run in the one
 * process; their stderr is told apart by the instance names.
 */
async function encodeExcerpt(
  ctx: StageContext,
  spec: RenditionSpec,
  excerpt: string,
  channels: number,
  gainDb: number,
  branch: BranchPlan,
  round: number,
): Promise<{ fed: LoudnessMeasurement; encoded: LoudnessMeasurement; unlimited: LoudnessMeasurement; unlimitedBlocks: BlockHistogram }> {
  const out = path.join(ctx.jobDir, `calibrate-${spec.id}-${round}.${spec.codec === "aac" ? "m4a" : spec.codec}`);
  const extra = branch.extraGainDb ? `,volume=${branch.extraGainDb.toFixed(2)}dB:precision=float` : "";
  const graph =
    `[0:a:0]volume=${gainDb.toFixed(2)}dB:precision=float,aresample=${spec.sampleRate},asplit[b][u];` +
    `[u]anull${extra},ebur128@unlimited=peak=true:framelog=info[ue];` +
    `[b]${branchFilters(spec, branch, channels)},asplit[enc][m];[m]ebur128@fed=peak=true:framelog=verbose[e]`;
  const unlimitedBlocks = new BlockHistogram();
  const logs: Record<string, Ebur128Log> = {
    fed: new Ebur128Log(),
    unlimited: new Ebur128Log((f) => unlimitedBlocks.add(f.m, f.blockPeak)),
  };
  // A summary's lines after its first carry no prefix: they belong to the instance named last.
  let current = logs.fed!;
  await runTool(
    ctx.tools.ffmpeg,
    [
      "-nostdin",
      "-hide_banner",
      "-nostats",
      "-y",
      "-i",
      excerpt,
      "-filter_complex",
      graph,
      "-map",
      "[enc]",
      ...codecArgs(spec),
      out,
      "-map",
      "[e]",
      "-f",
      "null",
      "-",
      "-map",
      "[ue]",
      "-f",
      "null",
      "-",
    ],
    {
      signal: ctx.signal,
      onStderrLine: (l) => {
        const named = /\[ebur128@(\w+) @/.exec(l)?.[1];
        if (named && logs[named]) current = logs[named]!;
        current.onLine(l);
      },
    },
  );
  const encoded = await measureLoudness(ctx.tools, out, ctx.signal);
  await rm(out, { force: true });
  return { fed: logs.fed!.summary(), encoded, unlimited: logs.unlimited!.summary(), unlimitedBlocks };
}

/**
 * One rendition's branch, learnt on the excerpt: a first round with a limiter
 * at a trial ceiling measures the limiter's leak and the encoder's overshoot
 * and loudness loss; the branch is planned from them, then verified on every
 * window, the learnt ones and the held-out ones, until no peak goes over.
 */
async function calibrateRendition(
  ctx: StageContext,
  slots: Slots,
  spec: RenditionSpec,
  excerpt: string,
  checkExcerpt: string | undefined,
  channels: number,
  gainDb: number,
  masteredPeakDbtp: number,
  blocks: BlockHistogram,
  target: LoudnessTarget,
  lossPerDb?: number,
): Promise<{ branch: BranchPlan; calibration: Calibration }> {
  const trial = target.truePeakDbtp - 1;
  const first = await slots.run(() => encodeExcerpt(ctx, spec, excerpt, channels, gainDb, { limiterCeilingDb: trial }, 1));
  const limiterLeakDb = Math.max(0, first.fed.truePeakDbtp - trial);
  let encoderOvershootDb = Math.max(0, first.encoded.truePeakDbtp - first.fed.truePeakDbtp);
  const encoderLossLu = clamp(first.fed.integratedLufs - first.encoded.integratedLufs, -1.5, 1.5);
  let ceiling = round2(target.truePeakDbtp - limiterLeakDb - encoderOvershootDb - CEILING_MARGIN_DB);
  let branchLossPerDb = lossPerDb ?? LIMITER_LOSS_PER_DB;
  let branch = planBranch(target, gainDb, masteredPeakDbtp, encoderOvershootDb, encoderLossLu, ceiling, blocks, branchLossPerDb);
  // Verify the planned branch on every window. An encoder's overshoot at an attack is chaotic:
  // claps through twoloop AAC 64k gave +1.1 dB at one level and +4.0 dB at 0.5 dB less, and the
  // held-out windows alone never heard the start, where the first round's trial level had been
  // lucky. So every verification is a fresh draw at every attack sampled, and its worst counts; a
  // peak over the ceiling lowers the limiter and the new branch is verified again. (The start of
  // the episode is replayed exactly: the encoder sees the same samples from the same state.)
  let rounds = 1;
  for (let verified = 0; verified < VERIFY_ROUNDS; verified++) {
    const planned = branch;
    const runs = await Promise.all(
      [excerpt, checkExcerpt].flatMap((file, i) =>
        file ? [slots.run(() => encodeExcerpt(ctx, spec, file, channels, gainDb, planned, 10 * (verified + 1) + i))] : [],
      ),
    );
    rounds++;
    // A held-out excerpt can be near silence (a short episode's pauses): only what was heard counts.
    const heard = runs.filter((r) => Number.isFinite(r.fed.truePeakDbtp) && Number.isFinite(r.encoded.truePeakDbtp));
    const encodedPeak = Math.max(-Infinity, ...heard.map((r) => r.encoded.truePeakDbtp));
    const overshoot = Math.max(0, ...heard.map((r) => r.encoded.truePeakDbtp - r.fed.truePeakDbtp));
    const over = encodedPeak - (target.truePeakDbtp - VERIFY_MARGIN_DB);
    // What the branch's own limiter took from the excerpts' loudness, against what the block model
    // predicted for those passages: the model's loss per dB re-fitted for this branch (a limiter
    // far under the peaks takes more per dB than the shared one near them; claps lose less per dB
    // than speech), then used on the whole episode's blocks. Once, on the first verification.
    let refitted = false;
    if (verified === 0 && planned.limiterCeilingDb !== undefined) {
      let predicted = 0;
      let actual = 0;
      for (const r of heard) {
        const a = r.unlimited.integratedLufs - r.fed.integratedLufs;
        if (!Number.isFinite(a)) continue;
        predicted +=
          predictLimitedLufs(r.unlimitedBlocks, 0) - predictLimitedLufs(r.unlimitedBlocks, 0, planned.limiterCeilingDb, branchLossPerDb);
        actual += a;
      }
      if (predicted > 0.05) {
        branchLossPerDb = clamp((branchLossPerDb * actual) / predicted, 0.05, 1);
        refitted = true;
      }
    }
    if (over <= 0 && overshoot <= encoderOvershootDb && !refitted) break;
    encoderOvershootDb = Math.max(encoderOvershootDb, overshoot);
    ceiling = round2(
      Math.min(
        target.truePeakDbtp - limiterLeakDb - encoderOvershootDb - CEILING_MARGIN_DB,
        over > 0 ? (planned.limiterCeilingDb ?? ceiling) - over - 0.2 : Infinity,
      ),
    );
    // The new branch goes round again: a lower limiter or more gain is another draw at every attack
    // (claps through Opus: a branch re-planned from a larger overshoot and never verified went out
    // at -0.6 dBTP).
    branch = planBranch(target, gainDb, masteredPeakDbtp, encoderOvershootDb, encoderLossLu, ceiling, blocks, branchLossPerDb);
  }
  return {
    branch,
    calibration: {
      encoderOvershootDb: round2(encoderOvershootDb),
      limiterLeakDb: round2(limiterLeakDb),
      encoderLossLu: round2(encoderLossLu),
      rounds,
    },
  };
}

/**
 * The branch: make-up for the encoder's loudness loss and, where the peaks
 * would then pass the ceiling, a limiter at `ceilingDb` plus the make-up for
 * what it takes (predicted from the mastered signal's blocks).
 */
export function planBranch(
  target: LoudnessTarget,
  gainDb: number,
  masteredPeakDbtp: number,
  overshootDb: number,
  encoderLossLu: number,
  ceilingDb: number,
  blocks?: BlockHistogram,
  lossPerDb?: number,
): BranchPlan {
  let extra = encoderLossLu;
  if (masteredPeakDbtp + gainDb + extra + overshootDb <= target.truePeakDbtp - CEILING_MARGIN_DB) {
    return extra ? { extraGainDb: round2(extra) } : {};
  }
  if (blocks) {
    // The limiter's loss grows with the gain it is fed: a few fixed-point steps settle it.
    for (let i = 0; i < 4; i++) {
      const loss = predictLimitedLufs(blocks, gainDb + extra) - predictLimitedLufs(blocks, gainDb + extra, ceilingDb, lossPerDb);
      extra = Math.min(6, encoderLossLu + loss);
    }
  }
  return { limiterCeilingDb: ceilingDb, ...(extra ? { extraGainDb: round2(extra) } : {}) };
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const round4 = (n: number) => Math.round(n * 10000) / 10000;
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));
