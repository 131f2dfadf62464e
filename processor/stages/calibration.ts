/**
 * Part of stage 2, audio.normalize: each rendition's branch (make-up gain,
 * band limit, limiter ceiling) learnt on this episode. Every rendition's
 * branch and encoder run over an excerpt of the mastered signal, windows
 * chosen where encoders overshoot most (excerptStarts) and cut on the
 * encoder's frame grid (cutExcerpt); a first round at a trial ceiling
 * measures the limiter's leak and the encoder's overshoot and loudness loss,
 * the branch is planned from them (planBranch), then verified on every
 * window, the learnt ones and as many held out, until no peak goes over
 * (calibrateRendition). README "Loudness" says why each step is there.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import type { LoudnessTarget } from "../../shared/podcast.ts";
import { RENDITIONS, type RenditionId, type RenditionSpec } from "../../shared/renditions.ts";
import { codecArgs, frameGridSamples } from "../media/encoders.ts";
import { branchFilters, type BranchPlan, type MasteringChain } from "../media/filter-graph.ts";
import {
  BlockHistogram,
  Ebur128Log,
  FramePeaks,
  LIMITER_LOSS_PER_DB,
  measureLoudness,
  predictLimitedLufs,
  type LoudnessMeasurement,
} from "../media/loudness.ts";
import type { Slots } from "../media/slots.ts";
import { runFfmpeg } from "../media/tools.ts";
import type { StageContext } from "./context.ts";

/** What calibration measured for one rendition on this episode's excerpt. */
export interface Calibration {
  /**
   * True peak the encoder adds over what it is fed, dB, as planned for: the largest heard, or the
   * largest expected over the episode's hot frames when it has more than were heard (expectedOvershoot).
   */
  encoderOvershootDb: number;
  /** The largest overshoot heard on the excerpts, dB. */
  heardOvershootDb: number;
  /** True peak the sample-peak limiter let through above its ceiling, dB (0 when it did not limit). */
  limiterLeakDb: number;
  /** Loudness the encoder took away, LU. */
  encoderLossLu: number;
  /** Calibration rounds: the first, then each verification of the planned branch. */
  rounds: number;
}

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

/** What calibration works from: the mastered signal, its 100 ms frames and 400 ms blocks, and the plan so far. */
export interface CalibrationInput {
  masteredInput: string;
  frames: FramePeaks;
  durationSeconds: number;
  chain: MasteringChain;
  /** The gain every branch applies to the mastered signal, dB. */
  gainDb: number;
  masteredPeakDbtp: number;
  blocks: BlockHistogram;
  target: LoudnessTarget;
  /** The limiter loss per dB the episode's shared limiter showed. */
  lossPerDb?: number;
}

/** Every rendition's branch and what calibration measured for it. */
export async function calibrateRenditions(
  ctx: StageContext,
  slots: Slots,
  input: CalibrationInput,
): Promise<{ branches: Record<RenditionId, BranchPlan>; calibration: Record<RenditionId, Calibration> }> {
  const { masteredInput, frames, durationSeconds, chain, gainDb, masteredPeakDbtp, blocks, target, lossPerDb } = input;
  // Two sets of passages: one to learn the branches on, one held out to check them.
  const windows = excerptWindows(durationSeconds);
  const learnStarts = excerptStarts(frames, windows, durationSeconds);
  const checkStarts = excerptStarts(frames, windows, durationSeconds, learnStarts);
  // A short episode is calibrated on the whole of it: the mastered file itself, for every encoder.
  const whole = learnStarts.length === 0 || durationSeconds <= EXCERPT_WINDOW_S * learnStarts.length * 1.5;
  // Otherwise cut on each encoder's frame grid (see frameGridSamples): one pair of excerpts per grid.
  const excerpts = new Map<number, { learn: string; held?: string }>();
  const cuts: Promise<void>[] = [];
  for (const grid of new Set(RENDITIONS.map((r) => frameGridSamples(r, chain.sampleRate)))) {
    if (whole) {
      excerpts.set(grid, { learn: masteredInput });
      continue;
    }
    const learn = path.join(ctx.jobDir, `excerpt-${grid}.wav`);
    const held = path.join(ctx.jobDir, `excerpt-${grid}-check.wav`);
    cuts.push(slots.run(() => cutExcerpt(ctx, masteredInput, learnStarts, learn, grid, chain.sampleRate)));
    const check = checkStarts.length > 0;
    if (check) cuts.push(slots.run(() => cutExcerpt(ctx, masteredInput, checkStarts, held, grid, chain.sampleRate)));
    excerpts.set(grid, { learn, ...(check ? { held } : {}) });
  }
  await Promise.all(cuts);

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
        masteredPeakDbtp,
        frames,
        blocks,
        target,
        lossPerDb,
      );
      branches[spec.id] = c.branch;
      calibration[spec.id] = c.calibration;
    }),
  );
  if (!whole) await Promise.all([...excerpts.values()].flatMap((e) => [e.learn, e.held ?? e.learn]).map((f) => rm(f, { force: true })));

  return { branches, calibration };
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
export function excerptStarts(frames: FramePeaks, count: number, duration: number, exclude: readonly number[] = []): number[] {
  const w = EXCERPT_WINDOW_S;
  const starts: number[] = [];
  const take = (centre: number) => {
    if (starts.length >= count) return;
    const start = clamp(centre - w / 2, 0, Math.max(0, duration - w));
    if ([...starts, ...exclude].every((s) => Math.abs(s - start) >= w)) starts.push(start);
  };
  if (!frames.length) return [];
  take(w / 2);
  const loudest = frames.loudest();
  // Every window taken or excluded can turn away at most the candidates whose windows overlap it
  // (20 frames, plus the few that clamp onto the file's ends): so the best `reach` candidates always
  // hold every one the loops below get to. Keeping only those, memory does not grow with the episode
  // (sorting a 3-hour episode's 108 000 frames left ~10 MB of scratch for the GC).
  const reach = (count + exclude.length) * (2 * w * 10 + 12);
  const rise = (i: number) => (i < 2 ? 0 : frames.peak(i) - Math.min(frames.peak(i - 1), frames.peak(i - 2)));
  // The sharpest attacks to a hot level (within 3 dB of the loudest peak).
  const attacks = bestFrames(frames.length, reach, rise, (i) => frames.peak(i) >= loudest - 3 && rise(i) > 0);
  const attackWindows = Math.ceil((count - 1) / 2);
  for (const i of attacks) {
    if (starts.length >= 1 + attackWindows) break;
    take(frames.t(i));
  }
  // A window 20 dB under the loudest peak (a pause, the silence after the last word) tells nothing.
  const hottest = bestFrames(
    frames.length,
    reach,
    (i) => frames.peak(i),
    (i) => frames.peak(i) >= loudest - 20,
  );
  for (const i of hottest) {
    if (starts.length >= count) break;
    take(frames.t(i));
  }
  return starts.sort((x, y) => x - y);
}

/**
 * The `keep` frame indices with the highest `score` among those `eligible`, best first, ties
 * in time order (what a stable sort of all of them would start with), in a bounded heap.
 */
export function bestFrames(n: number, keep: number, score: (i: number) => number, eligible: (i: number) => boolean): Int32Array {
  const heap = new Int32Array(keep); // the worst kept at heap[0]
  const value = new Float64Array(keep);
  let size = 0;
  // a worse than b: a lower score, or the same score later in time.
  const worse = (a: number, b: number) => value[a]! < value[b]! || (value[a] === value[b] && heap[a]! > heap[b]!);
  const swap = (a: number, b: number) => {
    [heap[a], heap[b]] = [heap[b]!, heap[a]!];
    [value[a], value[b]] = [value[b]!, value[a]!];
  };
  const down = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let least = at;
      if (l < size && worse(l, least)) least = l;
      if (r < size && worse(r, least)) least = r;
      if (least === at) return;
      swap(at, least);
      at = least;
    }
  };
  for (let i = 0; i < n; i++) {
    if (!eligible(i)) continue;
    const v = score(i);
    if (size < keep) {
      heap[size] = i;
      value[size] = v;
      for (let at = size++; at > 0 && worse(at, (at - 1) >> 1); at = (at - 1) >> 1) swap(at, (at - 1) >> 1);
    } else if (keep > 0 && (v > value[0]! || (v === value[0] && i < heap[0]!))) {
      heap[0] = i;
      value[0] = v;
      down(0);
    }
  }
  const order = Array.from(heap.subarray(0, size), (i, k) => ({ i, v: value[k]! }));
  order.sort((a, b) => b.v - a.v || a.i - b.i);
  return Int32Array.from(order, (o) => o.i);
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
async function cutExcerpt(ctx: StageContext, mastered: string, starts: number[], out: string, grid: number, rate: number): Promise<void> {
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
  await runFfmpeg(
    ctx.tools,
    ["-nostdin", "-v", "error", "-y", ...inputs, "-filter_complex", filters.join(";"), "-map", "[out]", "-c:a", "pcm_f32le", out],
    { signal: ctx.signal },
  );
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
): Promise<{
  fed: LoudnessMeasurement;
  encoded: LoudnessMeasurement;
  unlimited: LoudnessMeasurement;
  unlimitedBlocks: BlockHistogram;
  /** The encoder's overshoot at each hot 100 ms frame (hotFrameOvershoots). */
  frameOvershoots: number[];
}> {
  const out = path.join(ctx.jobDir, `calibrate-${spec.id}-${round}.${spec.codec === "aac" ? "m4a" : spec.codec}`);
  const extra = branch.extraGainDb ? `,volume=${branch.extraGainDb.toFixed(2)}dB:precision=float` : "";
  const graph =
    `[0:a:0]volume=${gainDb.toFixed(2)}dB:precision=float,aresample=${spec.sampleRate},asplit[b][u];` +
    `[u]anull${extra},ebur128@unlimited=peak=true:framelog=info[ue];` +
    `[b]${branchFilters(spec, branch, channels)},asplit[enc][m];[m]ebur128@fed=peak=true:framelog=info[e]`;
  const unlimitedBlocks = new BlockHistogram();
  const fedFrames = new FramePeaks();
  const encodedFrames = new FramePeaks();
  const logs: Record<string, Ebur128Log> = {
    fed: new Ebur128Log((f) => fedFrames.push(f.t, f.peak)),
    unlimited: new Ebur128Log((f) => unlimitedBlocks.add(f.m, f.blockPeak)),
  };
  // A summary's lines after its first carry no prefix: they belong to the instance named last.
  let current = logs.fed!;
  await runFfmpeg(
    ctx.tools,
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
  const encoded = await measureLoudness(ctx.tools, out, ctx.signal, new Ebur128Log((f) => encodedFrames.push(f.t, f.peak)));
  await rm(out, { force: true });
  return {
    fed: logs.fed!.summary(),
    encoded,
    unlimited: logs.unlimited!.summary(),
    unlimitedBlocks,
    frameOvershoots: hotFrameOvershoots(fedFrames, encodedFrames),
  };
}

/** Frames this close to the loudest are the hot ones: where an overshoot meets the ceiling. */
const HOT_FRAME_DB = 0.5;

/**
 * The encoder's overshoot (encoded true peak minus fed true peak) at each 100 ms frame whose fed
 * peak is within HOT_FRAME_DB of the loudest. Frame i of both logs covers the same 100 ms: the
 * decoders drop the encoders' priming (MP4 edit list, LAME header, Opus pre-skip).
 */
export function hotFrameOvershoots(fed: FramePeaks, encoded: FramePeaks): number[] {
  const top = fed.loudest();
  const out: number[] = [];
  for (let i = 0; i < Math.min(fed.length, encoded.length); i++) {
    const f = fed.peak(i);
    const e = encoded.peak(i);
    if (f >= top - HOT_FRAME_DB && Number.isFinite(f) && e > -120) out.push(round2(e - f));
  }
  return out;
}

/** Euler-Mascheroni constant: the mean of a Gumbel variable (the expected maximum's offset from its mode). */
const EULER_GAMMA = 0.5772;

/**
 * The largest overshoot to expect over the whole episode. The full encode
 * meets every hot passage, each another draw of the encoder's overshoot, so
 * its largest grows with the episode's number of hot frames while
 * calibration hears a few hundred at most. Measured on the bench's speech
 * (100 ms frames within 0.5 dB of the loudest, full encode against
 * excerpt): AAC 64k's overshoots had the same median and 99th percentile in
 * both (-0.1 and 0.4-0.5 dB), but the largest was 0.6 dB heard, 0.9 dB over
 * the hour's 12 600 hot frames and 1.6 dB over 3 hours' 37 000. The upper
 * half falls off like an exponential (AAC 64k on 3 hours: 99th percentile
 * 0.4, 99.9th 0.6 dB), so: fit it to the heard frames (the median `u`, and
 * `beta` the mean excess over it), count the episode's hot frames `n`
 * (weighted by the chance that a frame `d` dB under the loudest still
 * reaches it, exp(-d/beta)), and expect u + beta (ln(n/2) + gamma), the mean
 * of the largest of n such draws. Never less than what was heard; nothing
 * is extrapolated when the episode has no more hot frames than were heard
 * (a short episode is heard whole). `fedPeak(i)` is frame i of the episode
 * as this branch will feed it to the encoder.
 */
export function expectedOvershoot(heard: readonly number[], frames: number, fedPeak: (i: number) => number): number {
  if (!heard.length) return 0;
  const sorted = [...heard].sort((a, b) => a - b);
  const largest = sorted[sorted.length - 1]!;
  const half = sorted.slice(Math.floor(sorted.length / 2));
  const u = half[0]!;
  const beta = half.reduce((sum, o) => sum + (o - u), 0) / half.length;
  if (beta <= 0) return largest;
  let top = -Infinity;
  for (let i = 0; i < frames; i++) top = Math.max(top, fedPeak(i));
  let n = 0;
  for (let i = 0; i < frames; i++) {
    const d = top - fedPeak(i);
    n += Math.exp(-d / beta);
  }
  if (n <= heard.length) return largest;
  return Math.max(largest, round2(u + beta * (Math.log(n / 2) + EULER_GAMMA)));
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
  frames: FramePeaks,
  blocks: BlockHistogram,
  target: LoudnessTarget,
  lossPerDb?: number,
): Promise<{ branch: BranchPlan; calibration: Calibration }> {
  const trial = target.truePeakDbtp - 1;
  const first = await slots.run(() => encodeExcerpt(ctx, spec, excerpt, channels, gainDb, { limiterCeilingDb: trial }, 1));
  const limiterLeakDb = Math.max(0, first.fed.truePeakDbtp - trial);
  let heardOvershootDb = Math.max(0, first.encoded.truePeakDbtp - first.fed.truePeakDbtp);
  let encoderOvershootDb = heardOvershootDb;
  // Every verification's hot frames, the planned branches' overshoots: what the episode's largest is expected from.
  const heardFrames: number[] = [];
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
    heardOvershootDb = Math.max(heardOvershootDb, ...heard.map((r) => r.encoded.truePeakDbtp - r.fed.truePeakDbtp));
    for (const r of heard) heardFrames.push(...r.frameOvershoots);
    // The episode's frames as this branch feeds them: gained, and capped by its limiter (plus what that lets through).
    const shift = gainDb + (planned.extraGainDb ?? 0);
    const cap = planned.limiterCeilingDb === undefined ? Infinity : planned.limiterCeilingDb + limiterLeakDb;
    const overshoot = Math.max(
      heardOvershootDb,
      expectedOvershoot(heardFrames, frames.length, (i) => Math.min(frames.peak(i) + shift, cap)),
    );
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
    // Re-planned to the same branch: it has just been verified, and ffmpeg's encoders are
    // deterministic, so another round would replay the same encodes (AAC 64k on 3 hours did).
    if (branch.limiterCeilingDb === planned.limiterCeilingDb && branch.extraGainDb === planned.extraGainDb) break;
  }
  return {
    branch,
    calibration: {
      encoderOvershootDb: round2(encoderOvershootDb),
      heardOvershootDb: round2(heardOvershootDb),
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
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));
