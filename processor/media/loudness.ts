/**
 * Integrated loudness and true peak with ffmpeg's `ebur128=peak=true`
 * (ITU-R BS.1770 / EBU R128). Every rendition is measured whole, on its own,
 * from the file that will be published: the check is independent of the
 * encoder that made it. loudnorm's measuring pass is never used: it is ~6x
 * slower (it runs at 192 kHz).
 *
 * The source may be measured in parts, one ffmpeg per core: each part's
 * ebur128 logs its 400 ms block loudness (M) and 3 s short-term loudness (S)
 * every 100 ms, and the parts' blocks are gated together exactly as BS.1770
 * gates one file's (absolute -70 LUFS, relative -10 LU; LRA from S with -20 LU,
 * 10th..95th percentile). Only the 3 blocks straddling each seam are lost.
 * Constant memory: blocks go into 0.1 LU histograms, not lists.
 */
import { runFfmpeg, type MediaTools } from "./tools.ts";
import type { Slots } from "./slots.ts";

export interface LoudnessMeasurement {
  integratedLufs: number;
  truePeakDbtp: number;
  loudnessRangeLu: number;
}

/** Parses the summary ebur128 prints when the stream ends. */
export function parseEbur128Summary(lines: string[]): LoudnessMeasurement {
  const start = lines.findLastIndex((l) => /Summary:/.test(l));
  const summary = start >= 0 ? lines.slice(start) : [];
  const num = (section: RegExp, field: RegExp): number => {
    const s = summary.findIndex((l) => section.test(l));
    if (s < 0) throw new Error("ebur128 summary missing");
    for (const l of summary.slice(s + 1)) {
      const m = field.exec(l);
      if (m) return m[1] === "-inf" ? -Infinity : Number(m[1]);
    }
    throw new Error("ebur128 summary incomplete");
  };
  return {
    integratedLufs: num(/Integrated loudness:/, /^\s*I:\s*(-?[\d.]+|-inf)\s*LUFS/),
    truePeakDbtp: num(/True peak:/, /^\s*Peak:\s*(-?[\d.]+|-inf)\s*dBFS/),
    loudnessRangeLu: num(/Loudness range:/, /^\s*LRA:\s*(-?[\d.]+|-inf)\s*LU/),
  };
}

/** One 100 ms line of ebur128's frame log. */
export interface Ebur128Frame {
  /** Time (s) at the end of the frame. */
  t: number;
  /** Momentary (400 ms) and short-term (3 s) loudness, LUFS. */
  m: number;
  s: number;
  /** True peak within this 100 ms frame, and within the 400 ms block that ends with it (dBTP). */
  peak: number;
  blockPeak: number;
}

/**
 * Every 100 ms frame's end time and true peak over a whole episode, in typed
 * arrays: as objects, a 4-hour episode's 144 000 frames took ~10 MB of heap,
 * and spread into Math.max they overflowed the stack past 3.5 hours.
 */
export class FramePeaks {
  private times = new Float64Array(4096);
  private peaks = new Float64Array(4096);
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(t: number, peak: number): void {
    if (this.n === this.times.length) {
      const times = new Float64Array(this.n * 2);
      const peaks = new Float64Array(this.n * 2);
      times.set(this.times);
      peaks.set(this.peaks);
      this.times = times;
      this.peaks = peaks;
    }
    this.times[this.n] = t;
    this.peaks[this.n] = peak;
    this.n++;
  }

  t(i: number): number {
    return this.times[i]!;
  }

  peak(i: number): number {
    return this.peaks[i]!;
  }

  /** The highest peak (-Infinity when empty). */
  loudest(): number {
    let max = -Infinity;
    for (let i = 0; i < this.n; i++) if (this.peaks[i]! > max) max = this.peaks[i]!;
    return max;
  }

  /** `others`' frames after these, in order (a render's parts). */
  static join(others: readonly FramePeaks[]): FramePeaks {
    const all = new FramePeaks();
    for (const o of others) for (let i = 0; i < o.length; i++) all.push(o.t(i), o.peak(i));
    return all;
  }
}

/**
 * Reads ebur128's stderr: its per-100 ms frames (when framelog=info) and the
 * summary it prints when the stream ends. Other lines are ignored.
 */
export class Ebur128Log {
  private readonly lines: string[] = [];
  private inSummary = false;
  private readonly recent: number[] = [];
  private static readonly FRAME = /\bt:\s*([\d.]+)\s.*\sM:\s*(-?[\d.]+)\s+S:\s*(-?[\d.]+).*FTPK:((?:\s+(?:-?[\d.]+|-inf))+)\s+dBFS/;

  private readonly onFrame?: (f: Ebur128Frame) => void;

  constructor(onFrame?: (f: Ebur128Frame) => void) {
    this.onFrame = onFrame;
  }

  /** Whether the frame log is wanted (ebur128's framelog=info), not only the summary. */
  get readsFrames(): boolean {
    return this.onFrame !== undefined;
  }

  onLine(line: string): boolean {
    if (/\bSummary:/.test(line)) {
      this.inSummary = true;
      this.lines.length = 0;
    }
    // ffmpeg 5.1 prints an empty summary while it configures a filter_complex graph: frames after it end it.
    const m = this.onFrame ? Ebur128Log.FRAME.exec(line) : null;
    if (m) this.inSummary = false;
    else if (this.inSummary) {
      if (this.lines.length < 40) this.lines.push(line);
      return true;
    }
    if (!this.onFrame || !m) return false;
    const peak = Math.max(
      ...m[4]!
        .trim()
        .split(/\s+/)
        .map((v) => (v === "-inf" ? -120 : Number(v))),
    );
    this.recent.push(peak);
    if (this.recent.length > 4) this.recent.shift();
    this.onFrame({ t: Number(m[1]), m: Number(m[2]), s: Number(m[3]), peak, blockPeak: Math.max(...this.recent) });
    return true;
  }

  summary(): LoudnessMeasurement {
    return parseEbur128Summary(this.lines);
  }
}

/** Runs ebur128 over `inputArgs`, read by `log` (its frames are printed only when it has a frame reader). */
async function ebur128(
  tools: MediaTools,
  inputArgs: string[],
  signal: AbortSignal | undefined,
  log = new Ebur128Log(),
): Promise<LoudnessMeasurement> {
  await runFfmpeg(
    tools,
    [
      "-nostdin",
      "-hide_banner",
      "-nostats",
      ...inputArgs,
      "-map",
      "0:a:0",
      // framelog=verbose: ffmpeg 5.1 otherwise prints a line per 100 ms at info level (CPU spent on nothing).
      "-af",
      `ebur128=peak=true:framelog=${log.readsFrames ? "info" : "verbose"}`,
      "-f",
      "null",
      "-",
    ],
    { signal, onStderrLine: (line) => void log.onLine(line) },
  );
  return log.summary();
}

/** A file's loudness; `log` with a frame reader also gets its 100 ms frames. */
export function measureLoudness(tools: MediaTools, file: string, signal?: AbortSignal, log?: Ebur128Log): Promise<LoudnessMeasurement> {
  return ebur128(tools, ["-i", file], signal, log);
}

const GRAIN = 10; // bins per LU
const FLOOR = -70;
const BINS = (10 - FLOOR) * GRAIN + 1;

/** Short-term loudness values, for the loudness range: a fixed-size histogram. */
export class LoudnessHistogram {
  private readonly counts = new Float64Array(BINS);

  add(lufs: number): void {
    if (!(lufs >= FLOOR)) return; // absolute gate (also drops ffmpeg's -120.7 "not enough data yet")
    this.counts[Math.min(BINS - 1, Math.round((lufs - FLOOR) * GRAIN))]! += 1;
  }

  private static level(bin: number): number {
    return FLOOR + bin / GRAIN;
  }

  /** Mean energy (as LUFS) of the blocks at or above `gate`. */
  private meanAbove(gate: number): number {
    let energy = 0;
    let n = 0;
    for (let b = 0; b < BINS; b++) {
      const c = this.counts[b]!;
      if (!c || LoudnessHistogram.level(b) < gate - 1e-9) continue;
      energy += c * 10 ** (LoudnessHistogram.level(b) / 10);
      n += c;
    }
    return n ? 10 * Math.log10(energy / n) : -Infinity;
  }

  /** Loudness range (EBU Tech 3342): 10th to 95th percentile of short-term values above a -20 LU relative gate. */
  range(): number {
    const ungated = this.meanAbove(FLOOR);
    if (!Number.isFinite(ungated)) return 0;
    const gate = ungated - 20;
    let total = 0;
    for (let b = 0; b < BINS; b++) if (LoudnessHistogram.level(b) >= gate - 1e-9) total += this.counts[b]!;
    const percentile = (p: number) => {
      let seen = 0;
      for (let b = 0; b < BINS; b++) {
        if (LoudnessHistogram.level(b) < gate - 1e-9) continue;
        seen += this.counts[b]!;
        if (seen >= p * total) return LoudnessHistogram.level(b);
      }
      return LoudnessHistogram.level(BINS - 1);
    };
    return total ? round1(percentile(0.95) - percentile(0.1)) : 0;
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The source's 400 ms blocks by loudness and by the true peak within them (the
 * highest of the block's four 100 ms frames): enough to predict, for any gain
 * and limiter ceiling, how much loudness the limiter will take away (see
 * `predictLimitedLufs`). Bounded by its 801 x 161 cells whatever the length,
 * but only the cells in use are stored: calibration makes one per excerpt run
 * (a few hundred blocks each), and a dense 516 KB array apiece made the
 * processor's memory grow with the number of runs.
 */
export class BlockHistogram {
  static readonly M_GRAIN = 10;
  static readonly P_GRAIN = 2;
  static readonly P_FLOOR = -60;
  static readonly P_BINS = 161;
  /** Cell (m * P_BINS + p) to its count. */
  private readonly counts = new Map<number, number>();

  add(lufs: number, peakDbtp: number): void {
    if (!(lufs >= FLOOR)) return;
    const m = Math.min(BINS - 1, Math.round((lufs - FLOOR) * GRAIN));
    const p = Math.max(0, Math.min(BlockHistogram.P_BINS - 1, Math.round((peakDbtp - BlockHistogram.P_FLOOR) * BlockHistogram.P_GRAIN)));
    const cell = m * BlockHistogram.P_BINS + p;
    this.counts.set(cell, (this.counts.get(cell) ?? 0) + 1);
  }

  /** Integrated loudness of the blocks after mapping each (loudness, peak) to a new loudness. */
  integrated(map: (lufs: number, peak: number) => number = (l) => l): number {
    const levels: number[] = [];
    const weights: number[] = [];
    // In cell order, so the sums below add up in the same order whatever order the blocks came in.
    for (const cell of [...this.counts.keys()].sort((a, b) => a - b)) {
      const m = Math.floor(cell / BlockHistogram.P_BINS);
      const p = cell % BlockHistogram.P_BINS;
      levels.push(map(FLOOR + m / GRAIN, BlockHistogram.P_FLOOR + p / BlockHistogram.P_GRAIN));
      weights.push(this.counts.get(cell)!);
    }
    const mean = (gate: number) => {
      let e = 0;
      let n = 0;
      levels.forEach((l, i) => {
        if (l >= gate) {
          e += weights[i]! * 10 ** (l / 10);
          n += weights[i]!;
        }
      });
      return n ? 10 * Math.log10(e / n) : -Infinity;
    };
    const ungated = mean(FLOOR);
    return Number.isFinite(ungated) ? mean(ungated - 10) : -Infinity;
  }
}

/**
 * How much of a block's loudness a limiter removes per dB that the block's
 * peak exceeds the ceiling. Fitted on speech and clicky speech, with
 * ffmpeg alimiter (attack 5 ms, release 50 ms) measured by ebur128: speech
 * loses 0.2..1.4 LU at ceilings 2.5..5 dB under its gained peak; the model is
 * within ~0.3 LU on speech and ~0.6 LU on isolated clicks.
 */
export const LIMITER_LOSS_PER_DB = 0.35;

/**
 * Predicted integrated loudness after `gainDb` and a limiter at `ceilingDb`
 * (undefined: no limiter). `lossPerDb` defaults to the speech fit above; the
 * mastering plan re-fits it on each episode from what its shared limiter took.
 */
export function predictLimitedLufs(blocks: BlockHistogram, gainDb: number, ceilingDb?: number, lossPerDb = LIMITER_LOSS_PER_DB): number {
  return blocks.integrated(
    (lufs, peak) => lufs + gainDb - (ceilingDb === undefined ? 0 : lossPerDb * Math.max(0, peak + gainDb - ceilingDb)),
  );
}

export interface SourceLoudness extends LoudnessMeasurement {
  /** ffmpeg processes the measurement was split over. */
  parts: number;
  blocks: BlockHistogram;
}

/** Parts shorter than this are not worth a process of their own. */
const MIN_PART_SECONDS = 120;

/** How many parts a signal of `durationSeconds` is split into over `cores` (one process each, at least one). */
export function partCount(durationSeconds: number, cores: number, minPartSeconds = MIN_PART_SECONDS): number {
  return Math.max(1, Math.min(cores, Math.floor(durationSeconds / minPartSeconds)));
}

/**
 * One measurement split in time over the cores (see the file comment): `run`
 * starts one ffmpeg over its part (`window`: the -ss/-t input options), its
 * stderr read by `log`, an ebur128 reader whose frames feed the shared block
 * and short-term histograms. The parts' summaries are put back together here,
 * the one place that does it: ebur128's own summary for a file measured in one
 * piece, the parts' blocks gated together otherwise. `run`'s own results
 * (other filters' figures) come back in part order.
 */
export async function inParts<T = void>(
  durationSeconds: number,
  slots: Slots,
  run: (window: string[], seconds: number, log: Ebur128Log) => Promise<T>,
): Promise<{ loudness: SourceLoudness; results: T[] }> {
  const parts = partCount(durationSeconds, slots.size);
  const blocks = new BlockHistogram();
  const shortTerm = new LoudnessHistogram();
  const length = durationSeconds / parts;
  const done = await Promise.all(
    Array.from({ length: parts }, (_, i) => {
      const window: string[] = [];
      if (i > 0) window.push("-ss", (i * length).toFixed(3));
      // The last part runs to the end of the file, whatever the declared duration said.
      if (i < parts - 1) window.push("-t", length.toFixed(3));
      const log = new Ebur128Log((f) => {
        // A block's peak is the highest of its four 100 ms frames.
        blocks.add(f.m, f.blockPeak);
        shortTerm.add(f.s);
      });
      const seconds = i < parts - 1 ? length : durationSeconds - i * length;
      return slots.run(async () => {
        const result = await run(window, seconds, log);
        return { result, summary: log.summary() };
      });
    }),
  );
  return {
    loudness: {
      ...combineParts(
        done.map((d) => d.summary),
        blocks,
        shortTerm,
      ),
      parts,
      blocks,
    },
    results: done.map((d) => d.result),
  };
}

/**
 * One signal's measurement from its parts' (see the file comment): ebur128's
 * own summary for a signal measured in one piece, the parts' blocks and
 * short-term values gated together otherwise.
 */
export function combineParts(summaries: LoudnessMeasurement[], blocks: BlockHistogram, shortTerm: LoudnessHistogram): LoudnessMeasurement {
  const one = summaries.length === 1 ? summaries[0] : undefined;
  return {
    integratedLufs: one ? one.integratedLufs : round1(blocks.integrated()),
    truePeakDbtp: Math.max(...summaries.map((s) => s.truePeakDbtp)),
    loudnessRangeLu: one ? one.loudnessRangeLu : shortTerm.range(),
  };
}

/** A file's loudness alone, measured in parts (`inParts`) with ebur128=peak=true. */
export async function measureInParts(
  tools: MediaTools,
  file: string,
  durationSeconds: number,
  slots: Slots,
  signal?: AbortSignal,
): Promise<SourceLoudness> {
  const { loudness } = await inParts(durationSeconds, slots, (window, _seconds, log) =>
    ebur128(tools, [...window, "-i", file], signal, log).then(() => undefined),
  );
  return loudness;
}
