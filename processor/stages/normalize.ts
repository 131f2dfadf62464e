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
 * 4. Calibrate every rendition on this episode (processor/stages/calibration.ts):
 *    its branch (make-up gain, band limit, limiter ceiling) learnt from its
 *    encoder run over 1 s windows of the mastered signal, where encoders
 *    overshoot most, and verified on them until no peak goes over.
 * Transcode then encodes every rendition from the mastered file, once.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import type { LoudnessTarget } from "../../shared/podcast.ts";
import { RENDITIONS, type RenditionId } from "../../shared/renditions.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { InputRejected } from "../errors.ts";
import { analyseSource, type SourceAnalysis } from "../media/analysis.ts";
import { chainMemory, masteringFilters, type BranchPlan, type MasteringChain } from "../media/filter-graph.ts";
import { type BlockHistogram, LIMITER_LOSS_PER_DB, predictLimitedLufs, type LoudnessMeasurement } from "../media/loudness.ts";
import { Slots } from "../media/slots.ts";
import { renderMeasured, type Rendered } from "../media/render.ts";
import { calibrateRenditions, type Calibration } from "./calibration.ts";
import type { StageContext } from "./context.ts";
import type { SourceAudio } from "./validate.ts";

export type { BranchPlan } from "../media/filter-graph.ts";
export type { Calibration } from "./calibration.ts";

export interface NormalizeInput {
  source: SourceAudio;
  target: LoudnessTarget;
}

export interface LoudnessPlan {
  target: LoudnessTarget;
  inputLufs: number;
  inputTruePeakDbtp: number;
  inputLoudnessRangeLu: number;
  /** The shared chain, applied once. */
  chain: MasteringChain;
  /** The mastered signal (float WAV at chain.sampleRate) that every rendition is encoded from, as ffmpeg's -i reads it (render.ts). */
  masteredInput: string;
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
export async function normalize(input: NormalizeInput, ctx: StageContext): Promise<LoudnessPlan> {
  const slots = ctx.slots ?? new Slots();
  const { source, target } = input;
  const a = await analyseSource(ctx.tools, source.sourcePath, source.durationSeconds, slots, ctx.signal);
  if (!Number.isFinite(a.integratedLufs) || a.integratedLufs <= SILENCE_LUFS) {
    throw new InputRejected("silent", "silent audio: no measurable loudness (below -70 LUFS)");
  }
  const chain = planChain(target, a, source);
  const master = await renderMaster(ctx, slots, source, chain, target, path.join(ctx.jobDir, "mastered.wav"));
  const masteredInput = master.input;
  const gainDb = round2(target.integratedLufs - master.measured.integratedLufs);
  const { branches, calibration } = await calibrateRenditions(ctx, slots, {
    masteredInput,
    frames: master.frames,
    durationSeconds: source.durationSeconds,
    chain,
    gainDb,
    masteredPeakDbtp: master.measured.truePeakDbtp,
    blocks: master.blocks,
    target,
    ...(master.lossPerDb !== undefined ? { lossPerDb: master.lossPerDb } : {}),
  });

  const plan: LoudnessPlan = {
    target,
    inputLufs: a.integratedLufs,
    inputTruePeakDbtp: a.truePeakDbtp,
    inputLoudnessRangeLu: a.loudnessRangeLu,
    chain,
    masteredInput,
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
    "audio.chain.render_parts": master.parts,
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
      [`audio.loudness.${r.id}.encoder_overshoot_heard_db`]: calibration[r.id].heardOvershootDb,
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

type Master = Rendered & {
  /** The limiter's loudness loss per dB over its ceiling, as this episode's shared limiter showed. */
  lossPerDb?: number;
};

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
  // Both passes split in time over the cores (render.ts). The source may be any codec: parts decode it from the start.
  const first = await renderMeasured(
    ctx.tools,
    slots,
    {
      input: source.sourcePath,
      inputRate: source.sampleRate,
      inputSeeksExactly: false,
      durationSeconds: source.durationSeconds,
      chain: masteringFilters(chain, source.channels),
      outputRate: chain.sampleRate,
      channels: chain.channels,
      out: shaped,
      ...chainMemory(chain),
    },
    ctx.signal,
  );
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
    const graph = `volume=${gain.toFixed(2)}dB:precision=float${limit ? oversampledLimiter(ceiling, chain.sampleRate) : ""}`;
    master = await renderMeasured(
      ctx.tools,
      slots,
      {
        input: first.input,
        inputRate: chain.sampleRate,
        inputSeeksExactly: true,
        durationSeconds: source.durationSeconds,
        chain: graph,
        outputRate: chain.sampleRate,
        channels: chain.channels,
        out,
        // The limiter's release is 50 ms; a second of run-up leaves nothing of the state before it.
        prerollSeconds: 1,
      },
      ctx.signal,
    );
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
  await Promise.all(first.files.map((f) => rm(f, { force: true })));
  return { ...master!, ...(limit ? { limiterCeilingDb: round2(ceiling) } : {}), passes };
}

/** alimiter at twice the working rate (see renderMaster). */
function oversampledLimiter(ceilingDb: number, rate: number): string {
  return `,aresample=${rate * 2},alimiter=limit=${(10 ** (ceilingDb / 20)).toFixed(5)}:level=0:latency=1:attack=5:release=50,aresample=${rate}`;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const round4 = (n: number) => Math.round(n * 10000) / 10000;
