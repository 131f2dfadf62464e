/**
 * Rendering a filter chain to a float WAV, measured on the way out (ebur128,
 * true peak, every 100 ms), split in time over the cores.
 *
 * The mastering chain is two such renders (normalize.ts), each one ffmpeg
 * over the whole episode: on the hour of speech they kept one core idle for
 * 77 s. Here each core renders a part of the timeline into a raw file of its
 * own, and the signal is read back as one WAV through ffmpeg's concat protocol
 * (`concat:header|part0|part1`, seekable): no copy, and no sample passes
 * through this process (piping the parts through Node cost 30 CPU s on the
 * hour, more than they saved). A part after the first starts
 * `prerollSeconds` early and drops that run-up, so the chain's state at its
 * seam (a compressor's envelope, a limiter's release, a leveller's gain
 * history) is the state one continuous run would have there: the parts join
 * into the signal one process renders (test/processor/render.test.ts).
 * That holds only where every seam and every run-up start lies on the grid of
 * a frame-based filter (`gridSamples`: the leveller's frames) and on a sample of
 * both rates (a resampler starts on the same phase); otherwise, and for short
 * signals, one process renders the whole.
 */
import { rm, stat, writeFile } from "node:fs/promises";
import {
  BlockHistogram,
  combineParts,
  Ebur128Log,
  FramePeaks,
  LoudnessHistogram,
  partCount,
  type LoudnessMeasurement,
} from "./loudness.ts";
import type { Slots } from "./slots.ts";
import { runFfmpeg, type MediaTools } from "./tools.ts";

export interface RenderRequest {
  /** The input file; its first audio stream is rendered. */
  input: string;
  inputRate: number;
  /** -ss on the input lands on the exact sample (a PCM WAV): parts seek; otherwise they decode from the start and trim. */
  inputSeeksExactly: boolean;
  /** The input's real duration (validate's decode check), s. */
  durationSeconds: number;
  /** The filter chain from the input's audio to the rendered signal (no labels). */
  chain: string;
  outputRate: number;
  channels: number;
  /** The WAV file to render to; rendered in parts, `<out>.header` and `<out>.part<k>` instead. */
  out: string;
  /** Run-up each later part renders and drops, s (the chain's longest memory, with margin). */
  prerollSeconds: number;
  /** Seams and run-up starts on multiples of this many output samples (a frame-based filter's frame). */
  gridSamples?: number;
  /** Shortest part worth a process (tests render short signals in parts). */
  minPartSeconds?: number;
}

export interface Rendered {
  /** What ffmpeg reads the rendered signal as (its -i): the WAV file, or the concat: URL of its header and parts. */
  input: string;
  /** The files it is made of, to remove when done. */
  files: string[];
  measured: LoudnessMeasurement;
  /** The rendered signal's 400 ms blocks (loudness, true peak). */
  blocks: BlockHistogram;
  /** Every 100 ms frame's end time and true peak. */
  frames: FramePeaks;
  /** ffmpeg processes the render was split over. */
  parts: number;
}

/** Float WAV header size: RIFF/RF64, a JUNK chunk that becomes ds64 past 4 GiB, fmt, data. */
const HEADER_BYTES = 80;
/** Run-up and seams further apart than this (a rate pair with a coarse common grid): one part. */
const MAX_GRID_SECONDS = 10;

export async function renderMeasured(tools: MediaTools, slots: Slots, req: RenderRequest, signal?: AbortSignal): Promise<Rendered> {
  const plan = partPlan(req, slots.size);
  if (plan) {
    const done = await renderParts(tools, slots, req, plan, signal);
    if (done) return done;
  }
  return renderWhole(tools, slots, req, signal);
}

interface PartPlan {
  /** Output sample where each part starts (the first is 0). */
  seams: number[];
  prerollSamples: number;
}

function partPlan(req: RenderRequest, cores: number): PartPlan | undefined {
  const parts = partCount(req.durationSeconds, cores, req.minPartSeconds);
  // Without the input's rate no run-up start can be placed on its samples.
  if (parts < 2 || !(req.inputRate > 0) || !Number.isInteger(req.inputRate)) return undefined;
  // A run-up starting on output sample n starts on input sample n * in / out: a whole sample when n is
  // a multiple of out / gcd(in, out).
  const step = lcm(req.gridSamples ?? 1, req.outputRate / gcd(req.outputRate, req.inputRate));
  if (step > MAX_GRID_SECONDS * req.outputRate) return undefined;
  const prerollSamples = Math.ceil((req.prerollSeconds * req.outputRate) / step) * step;
  const total = Math.floor(req.durationSeconds * req.outputRate);
  const seams = [0];
  for (let k = 1; k < parts; k++) seams.push(Math.floor((k * total) / parts / step) * step);
  if (seams.some((s, k) => k > 0 && s - seams[k - 1]! <= prerollSamples)) return undefined;
  return { seams, prerollSamples };
}

/** One ffmpeg's render: its filter graph (measurement after the trims) and outputs. */
function renderArgs(inputArgs: string[], graph: string, output: string[]): string[] {
  return [
    "-nostdin",
    "-hide_banner",
    "-nostats",
    "-y",
    ...inputArgs,
    "-filter_complex",
    `${graph},asplit[w][m];[m]ebur128=peak=true:framelog=info[e]`,
    "-map",
    "[w]",
    "-map_metadata",
    "-1",
    "-c:a",
    "pcm_f32le",
    ...output,
    "-map",
    "[e]",
    "-f",
    "null",
    "-",
  ];
}

async function renderWhole(tools: MediaTools, slots: Slots, req: RenderRequest, signal?: AbortSignal): Promise<Rendered> {
  const blocks = new BlockHistogram();
  const frames = new FramePeaks();
  const log = new Ebur128Log((f) => {
    blocks.add(f.m, f.blockPeak);
    frames.push(f.t, f.peak);
  });
  await slots.run(() =>
    runFfmpeg(tools, renderArgs(["-i", req.input], `[0:a:0]${req.chain}`, ["-rf64", "auto", req.out]), {
      signal,
      onStderrLine: (l) => void log.onLine(l),
    }),
  );
  return { input: req.out, files: [req.out], measured: log.summary(), blocks, frames, parts: 1 };
}

/** The parts side by side; undefined when a part came out another length than planned (then one process renders). */
async function renderParts(
  tools: MediaTools,
  slots: Slots,
  req: RenderRequest,
  plan: PartPlan,
  signal?: AbortSignal,
): Promise<Rendered | undefined> {
  const frameBytes = 4 * req.channels;
  const blocks = new BlockHistogram();
  const shortTerm = new LoudnessHistogram();
  const { seams, prerollSamples } = plan;
  const files = [`${req.out}.header`, ...seams.map((_, k) => `${req.out}.part${k}`)];
  const done = await Promise.all(
    seams.map((seam, k) => {
      const last = k === seams.length - 1;
      const runUp = k === 0 ? 0 : prerollSamples;
      const from = seam - runUp; // output sample where this process starts rendering
      const fromInput = (from * req.inputRate) / req.outputRate;
      const inputArgs =
        req.inputSeeksExactly && from > 0 ? ["-ss", (fromInput / req.inputRate).toFixed(6), "-i", req.input] : ["-i", req.input];
      const inputTrim = !req.inputSeeksExactly && from > 0 ? `atrim=start_sample=${fromInput},` : "";
      const keep = last ? "" : `:end_sample=${runUp + seams[k + 1]! - seam}`;
      const graph = `[0:a:0]${inputTrim}${req.chain},atrim=start_sample=${runUp}${keep},asetpts=PTS-STARTPTS`;
      const frames = new FramePeaks();
      const offset = seam / req.outputRate;
      const log = new Ebur128Log((f) => {
        blocks.add(f.m, f.blockPeak);
        shortTerm.add(f.s);
        frames.push(offset + f.t, f.peak);
      });
      return slots.run(async () => {
        await runFfmpeg(tools, renderArgs(inputArgs, graph, ["-f", "f32le", files[k + 1]!]), {
          signal,
          onStderrLine: (l) => void log.onLine(l),
        });
        return { summary: log.summary(), frames, samples: (await stat(files[k + 1]!)).size / frameBytes };
      });
    }),
  );
  // A part shorter or longer than planned would leave a gap or overlap its neighbour.
  for (let k = 0; k < seams.length - 1; k++) {
    if (done[k]!.samples !== seams[k + 1]! - seams[k]!) {
      await Promise.all(files.map((f) => rm(f, { force: true })));
      return undefined;
    }
  }
  const samples = seams[seams.length - 1]! + done[done.length - 1]!.samples;
  await writeFile(files[0]!, wavHeader(req.outputRate, req.channels, samples * frameBytes));
  return {
    input: `concat:${files.join("|")}`,
    files,
    measured: combineParts(
      done.map((d) => d.summary),
      blocks,
      shortTerm,
    ),
    blocks,
    frames: FramePeaks.join(done.map((d) => d.frames)),
    parts: seams.length,
  };
}

/** A 32-bit float WAV header of HEADER_BYTES; RF64 (EBU Tech 3306) when the data passes 4 GiB. */
export function wavHeader(rate: number, channels: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  const rf64 = dataBytes + HEADER_BYTES - 8 > 0xffffffff;
  h.write(rf64 ? "RF64" : "RIFF", 0, "latin1");
  h.writeUInt32LE(rf64 ? 0xffffffff : dataBytes + HEADER_BYTES - 8, 4);
  h.write("WAVE", 8, "latin1");
  h.write(rf64 ? "ds64" : "JUNK", 12, "latin1");
  h.writeUInt32LE(28, 16);
  if (rf64) {
    h.writeBigUInt64LE(BigInt(dataBytes + HEADER_BYTES - 8), 20);
    h.writeBigUInt64LE(BigInt(dataBytes), 28);
    h.writeBigUInt64LE(BigInt(dataBytes / (4 * channels)), 36);
  }
  h.write("fmt ", 48, "latin1");
  h.writeUInt32LE(16, 52);
  h.writeUInt16LE(3, 56); // WAVE_FORMAT_IEEE_FLOAT
  h.writeUInt16LE(channels, 58);
  h.writeUInt32LE(rate, 60);
  h.writeUInt32LE(rate * 4 * channels, 64);
  h.writeUInt16LE(4 * channels, 68);
  h.writeUInt16LE(32, 70);
  h.write("data", 72, "latin1");
  h.writeUInt32LE(rf64 ? 0xffffffff : dataBytes, 76);
  return h;
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
const lcm = (a: number, b: number) => (a / gcd(a, b)) * b;
