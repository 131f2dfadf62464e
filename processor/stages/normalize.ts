/**
 * Stage 2, audio.normalize: measure the source once (ebur128 with true peak)
 * and plan ONE gain to the podcast's loudness target, plus a true-peak limit
 * per rendition where that gain would push peaks over the ceiling. Nothing is
 * encoded here; transcode applies the plan in its single decode.
 *
 * Why a limit per rendition: lossy encoders raise true peak above what they
 * are fed (measured: MP3 128k ~+1 dB, AAC 64k +3 to +4.5 dB on raw speech), and alimiter
 * limits sample peaks, not inter-sample peaks. Each branch therefore gets its
 * own headroom below the ceiling; every output is measured afterwards anyway.
 *
 * A limiter also lowers loudness (0.2 to 1.5 LU on raw speech), which would
 * send renditions back for a second encode. The source measurement keeps each
 * 400 ms block's loudness and peak, so the plan predicts that loss for every
 * branch's ceiling and gives the branch the extra gain that makes up for it.
 */
import type { LoudnessTarget } from "../../shared/podcast.ts";
import { RENDITIONS, type RenditionId } from "../../shared/renditions.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { InputRejected } from "../errors.ts";
import { measureInParts, predictLimitedLufs, type BlockHistogram } from "../media/loudness.ts";
import { Slots } from "../media/slots.ts";
import type { StageContext } from "./context.ts";
import type { SourceAudio } from "./validate.ts";

export interface NormalizeInput {
  source: SourceAudio;
  target: LoudnessTarget;
}

export interface BranchPlan {
  /** Sample-peak ceiling (dBFS) for this rendition's limiter; absent: the gain leaves enough headroom, no limiter. */
  limiterCeilingDb?: number;
  /**
   * Extra gain for this rendition only, dB: the encoder's usual loudness loss
   * in the plan, corrected by transcode's second pass when an encoder (or the
   * limiter) moved this content's loudness further off target.
   */
  extraGainDb?: number;
}

export interface LoudnessPlan {
  target: LoudnessTarget;
  inputLufs: number;
  inputTruePeakDbtp: number;
  inputLoudnessRangeLu: number;
  /** The one gain applied to the decoded source, dB. */
  gainDb: number;
  /** True peak the gain alone would produce, before any limiting. */
  predictedTruePeakDbtp: number;
  branches: Record<RenditionId, BranchPlan>;
}

/**
 * How far below the true-peak ceiling each rendition is limited before its
 * encoder: the encoder's measured overshoot plus a margin for inter-sample
 * peaks. Tuned with test/processor/stages.test.ts on speech, tones and noise.
 */
export const ENCODER_HEADROOM_DB: Record<RenditionId, number> = {
  mp3_128k: 1.5,
  mp3_64k: 2.0,
  aac_128k: 2.5,
  aac_64k: 5.0,
  opus_48k: 2.5,
};

/**
 * Lossy encoders lower loudness a little (their low-pass removes treble that
 * K-weighting counts): each branch is fed this much more, measured on speech
 * after limiting was accounted for (+0.15 to +0.5 LU lost).
 */
export const ENCODER_LOUDNESS_BIAS_DB: Record<RenditionId, number> = {
  mp3_128k: 0.4,
  mp3_64k: 0.5,
  aac_128k: 0.2,
  // Behind its deeper limiter (5 dB headroom) AAC 64k lost 0.9 LU on the bench's hour of speech.
  aac_64k: 0.6,
  opus_48k: 0.3,
};

/** Below this the source is silence (ebur128's absolute gate is -70 LUFS): there is nothing to normalise. */
const SILENCE_LUFS = -69.9;

export async function normalize(input: NormalizeInput, ctx: StageContext): Promise<LoudnessPlan> {
  const slots = ctx.slots ?? new Slots();
  const m = await measureInParts(ctx.tools, input.source.sourcePath, input.source.durationSeconds, slots, ctx.signal);
  if (!Number.isFinite(m.integratedLufs) || m.integratedLufs <= SILENCE_LUFS) {
    throw new InputRejected("silent", "silent audio: no measurable loudness (below -70 LUFS)");
  }
  const plan = planLoudness(input.target, m.integratedLufs, m.truePeakDbtp, m.loudnessRangeLu, m.blocks);
  ctx.span.setAttributes({
    [ATTR.loudnessTarget]: input.target.integratedLufs,
    [ATTR.loudnessInput]: m.integratedLufs,
    [ATTR.truePeakInput]: m.truePeakDbtp,
    [ATTR.loudnessGain]: plan.gainDb,
    "audio.loudness.target_true_peak_dbtp": input.target.truePeakDbtp,
    "audio.loudness.input_lra_lu": m.loudnessRangeLu,
    "audio.loudness.measured_in_parts": m.parts,
    "audio.loudness.predicted_true_peak_dbtp": plan.predictedTruePeakDbtp,
    "audio.loudness.limited_renditions": RENDITIONS.filter((r) => plan.branches[r.id].limiterCeilingDb !== undefined).map((r) => r.id),
  });
  for (const r of RENDITIONS) ctx.span.setAttribute(`audio.loudness.${r.id}.extra_gain_db`, plan.branches[r.id].extraGainDb ?? 0);
  return plan;
}

/**
 * One gain to the target for everything; per rendition, a limiter only where
 * that gain would leave the encoder too little headroom, and a small extra
 * gain that makes up for what that limiter and the encoder will take away
 * (predicted from the source's blocks when they are known).
 */
export function planLoudness(
  target: LoudnessTarget,
  inputLufs: number,
  inputTruePeakDbtp: number,
  lra = 0,
  blocks?: BlockHistogram,
): LoudnessPlan {
  const gainDb = round2(target.integratedLufs - inputLufs);
  const predicted = round2(inputTruePeakDbtp + gainDb);
  const branches = {} as Record<RenditionId, BranchPlan>;
  for (const r of RENDITIONS) {
    const bias = ENCODER_LOUDNESS_BIAS_DB[r.id];
    let branch = planBranch(target, predicted, ENCODER_HEADROOM_DB[r.id], bias);
    if (blocks && branch.limiterCeilingDb !== undefined) {
      // The limiter's loss grows with the extra gain it is fed: a few fixed-point steps settle it.
      const want = target.integratedLufs + bias;
      const base = predictLimitedLufs(blocks, gainDb);
      let extra = bias;
      for (let i = 0; i < 4; i++) {
        const out = predictLimitedLufs(blocks, gainDb + extra, branch.limiterCeilingDb);
        extra = Math.min(6, extra + want - (out - base + target.integratedLufs));
      }
      branch = planBranch(target, predicted, ENCODER_HEADROOM_DB[r.id], extra);
    }
    branches[r.id] = branch;
  }
  return {
    target,
    inputLufs,
    inputTruePeakDbtp,
    inputLoudnessRangeLu: lra,
    gainDb,
    predictedTruePeakDbtp: predicted,
    branches,
  };
}
/**
 * A rendition's branch: limit only when the peak it will be fed
 * (`predictedPeakDbtp`) would leave less than `headroomDb` below the ceiling.
 */
export function planBranch(target: LoudnessTarget, predictedPeakDbtp: number, headroomDb: number, extraGainDb = 0): BranchPlan {
  const ceiling = round2(target.truePeakDbtp - headroomDb);
  const extra = extraGainDb ? { extraGainDb: round2(extraGainDb) } : {};
  return predictedPeakDbtp + extraGainDb > ceiling ? { limiterCeilingDb: ceiling, ...extra } : extra;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
