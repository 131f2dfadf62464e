/**
 * The ffmpeg filter graphs, in one place: the mastering chain that runs once
 * on the shared path (normalize renders it to the job's mastered file), and
 * the branch every rendition gets before its encoder (gain, band limit,
 * limiter). The plan that chooses what goes in them is processor/stages/normalize.ts.
 */
import type { RenditionSpec } from "../../shared/renditions.ts";
import { bandLimit, encoderBandHz } from "./encoders.ts";

/** The shared chain: what is done to the source before any rendition is made. */
export interface MasteringChain {
  /** Channels of the mastered signal (and of every rendition). */
  channels: 1 | 2;
  /** Stereo with one dead channel: publish the live one (0 = left, 1 = right). */
  liveChannel?: 0 | 1;
  /** More than two channels: downmixed to stereo. */
  downmixFrom?: number;
  /** Working rate: 44.1 kHz (see planChain). */
  sampleRate: 44100 | 48000;
  /** A one-pole 10 Hz high-pass: removes DC offset, touches nothing audible. */
  dcRemoval: boolean;
  /** Rumble or mains hum below speech: a 4-pole high-pass at this frequency. */
  rumbleHighPassHz?: number;
  /** Speech leveller (dynaudnorm to the target's RMS): voices at different levels brought together. */
  leveller?: { targetRmsDb: number; maxGainDb: number; floorDb: number };
  /** Gain before the compressor, dB (brings the source near the target). */
  gainDb: number;
  /** A gentle RMS compressor for a peak-to-loudness ratio above what the target allows. */
  compressor?: { thresholdDb: number; ratio: number; attackMs: number; releaseMs: number };
}

const lin = (db: number) => 10 ** (db / 20);

/** The shared chain as an ffmpeg filter chain, from the source's first audio stream to the mastered signal. */
export function masteringFilters(chain: MasteringChain, sourceChannels: number): string {
  const f: string[] = [];
  if (chain.liveChannel !== undefined) f.push(`pan=mono|c0=c${chain.liveChannel}`);
  else if (chain.channels === 1 && sourceChannels > 1) f.push("pan=mono|c0=0.5*c0+0.5*c1");
  f.push(`aformat=sample_fmts=flt:channel_layouts=${chain.channels === 1 ? "mono" : "stereo"}`);
  f.push(`aresample=${chain.sampleRate}`);
  if (chain.dcRemoval) f.push("highpass=f=10:p=1");
  if (chain.rumbleHighPassHz) f.push(`highpass=f=${chain.rumbleHighPassHz}:p=2`, `highpass=f=${chain.rumbleHighPassHz}:p=2`);
  if (chain.leveller) {
    // 300 ms frames, an 11-frame (3.3 s) Gaussian: fast enough for turn-taking, slow enough not to pump on words.
    const { targetRmsDb, maxGainDb, floorDb } = chain.leveller;
    f.push(
      `dynaudnorm=f=${LEVELLER_FRAME_MS}:g=11:p=0.95:m=${lin(maxGainDb).toFixed(2)}:r=${lin(targetRmsDb).toFixed(4)}:t=${lin(floorDb).toFixed(6)}`,
    );
  }
  f.push(`volume=${chain.gainDb.toFixed(2)}dB:precision=float`);
  if (chain.compressor) {
    const c = chain.compressor;
    f.push(
      `acompressor=threshold=${lin(c.thresholdDb).toFixed(5)}:ratio=${c.ratio}:attack=${c.attackMs}:release=${c.releaseMs}:knee=2.8:detection=rms`,
    );
  }
  return f.join(",");
}

/** The leveller's frame, ms (dynaudnorm's f): its gain changes on this grid. */
const LEVELLER_FRAME_MS = 300;

/**
 * How far back the shared chain remembers, for a render split in time
 * (processor/media/render.ts): the run-up after which a part's output is the
 * continuous render's, and the grid its seams must keep. The compressor's and
 * high-passes' state decays within a second; the leveller smooths its gain over
 * 11 frames and must meet its frames where one continuous run meets them.
 */
export function chainMemory(chain: MasteringChain): { prerollSeconds: number; gridSamples: number } {
  if (!chain.leveller) return { prerollSeconds: 2, gridSamples: 1 };
  // dynaudnorm's frame in samples: rounded, then made even (ffmpeg's frame_size()).
  const frame = Math.round((chain.sampleRate * LEVELLER_FRAME_MS) / 1000);
  return { prerollSeconds: 30 * (LEVELLER_FRAME_MS / 1000), gridSamples: frame + (frame % 2) };
}

/** What one rendition's branch does before its encoder. */
export interface BranchPlan {
  /** Sample-peak ceiling (dBFS) of this rendition's limiter; absent: its peaks stay under the ceiling without one. */
  limiterCeilingDb?: number;
  /** Gain on top of the common gain, dB: what this encoder (and limiter) take away from the loudness. */
  extraGainDb?: number;
}

/**
 * A rendition's branch: extra gain, the encoder's band where we know it (AAC),
 * then, when limited, a limiter. The band is cut here, with a linear-phase
 * brick wall, because the encoder discards it anyway and its own cut rings:
 * so the limiter works on what will be encoded (an encoder cutting treble
 * after limiting rings above the limit), and the encoder has less to ring
 * with when there is no limiter. Calibration's "fed" peak is then the peak of
 * what the encoder keeps, so the overshoot it measures is the encoder's
 * noise alone. (What it does to the largest overshoot of a long episode
 * varies: README "Long episodes".)
 */
export function branchFilters(s: RenditionSpec, branch: BranchPlan, channels: number): string {
  const f: string[] = [];
  if (branch.extraGainDb) f.push(`volume=${branch.extraGainDb.toFixed(2)}dB:precision=float`);
  const hz = encoderBandHz(s, channels);
  if (hz) f.push(bandLimit(hz));
  if (branch.limiterCeilingDb !== undefined) {
    // level=0: alimiter otherwise "auto-levels" its output up to the limit; latency=1 keeps the branches in sync.
    // At twice the rate: at the delivery rate it lets sharp transients (claps) through between samples.
    f.push(
      `aresample=${s.sampleRate * 2}`,
      `alimiter=limit=${Math.max(lin(branch.limiterCeilingDb), 0.0625).toFixed(5)}:level=0:latency=1:attack=5:release=50`,
      `aresample=${s.sampleRate}`,
    );
  }
  return f.length ? f.join(",") : "anull";
}
