/**
 * processor/media/render.ts: a render split in time over the cores must be
 * the signal one process renders, sample for sample, with the same
 * measurement. Real ffmpeg on generated speech; the parts are made short
 * (minPartSeconds) so a 70 s signal splits.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainMemory, masteringFilters, type MasteringChain } from "../../processor/media/filter-graph.ts";
import { renderMeasured, wavHeader, type RenderRequest } from "../../processor/media/render.ts";
import { Slots } from "../../processor/media/slots.ts";
import { ffmpeg, probeStream, speechWav } from "./generated-audio.ts";

const tools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe" };
let dir: string;
/** 70 s at 48 kHz as a 192 kb/s MP3: turns between a voice and the same voice 12 dB down, over 50 Hz hum. */
let interview: string;
/** The first render's output in parts: the second one's input. */
let shaped: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "render-"));
  const voice = speechWav(dir, "voice", -6);
  interview = path.join(dir, "interview.mp3");
  ffmpeg([
    "-stream_loop",
    "5",
    "-i",
    voice,
    "-f",
    "lavfi",
    "-i",
    "sine=f=50:d=70",
    "-filter_complex",
    // Every other 12 s turn 12 dB quieter: a loudness range the leveller is planned for.
    "[0]atrim=end=70,volume='if(lt(mod(t,24),12),1,0.25)':eval=frame,aresample=48000[v];[1]volume=-40dB,aformat=channel_layouts=stereo,aresample=48000[h];[v][h]amix=inputs=2:normalize=0:duration=first",
    "-c:a",
    "libmp3lame",
    "-b:a",
    "192k",
    interview,
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The float samples ffmpeg reads from a rendered signal's input (a WAV, or the concat: URL of its parts). */
function samples(input: string, name: string): Float32Array {
  const raw = path.join(dir, `${name}.f32`);
  ffmpeg(["-i", input, "-map", "0:a:0", "-c:a", "pcm_f32le", "-f", "f32le", raw]);
  const b = readFileSync(raw);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function largestDifferenceDb(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst ? 20 * Math.log10(worst) : -Infinity;
}

async function renderBoth(req: Omit<RenderRequest, "out">, name: string) {
  const whole = await renderMeasured(tools, new Slots(1), { ...req, out: path.join(dir, `${name}-whole.wav`) });
  const parts = await renderMeasured(tools, new Slots(2), { ...req, out: path.join(dir, `${name}-parts.wav`), minPartSeconds: 20 });
  return { whole, parts, a: samples(whole.input, `${name}-whole`), b: samples(parts.input, `${name}-parts`) };
}

describe("a render split in time", () => {
  it("is the one-process render of the full mastering chain (leveller, compressor, high-passes, 48 -> 44.1 kHz from an MP3)", async () => {
    const chain: MasteringChain = {
      channels: 2,
      sampleRate: 44100,
      dcRemoval: true,
      rumbleHighPassHz: 80,
      leveller: { targetRmsDb: -16, maxGainDb: 20, floorDb: -50 },
      gainDb: 0,
      compressor: { thresholdDb: -10, ratio: 2.5, attackMs: 10, releaseMs: 200 },
    };
    const source = probeStream(interview);
    const { whole, parts, a, b } = await renderBoth(
      {
        input: interview,
        inputRate: source.sampleRate,
        inputSeeksExactly: false,
        durationSeconds: source.duration,
        chain: masteringFilters(chain, 2),
        outputRate: 44100,
        channels: 2,
        ...chainMemory(chain),
      },
      "chain",
    );
    expect(whole.parts).toBe(1);
    expect(parts.parts).toBe(2);
    expect(b.length).toBe(a.length);
    // Nothing at the seam, nothing anywhere: the parts' run-up leaves the chain's state as one run has it.
    expect(largestDifferenceDb(a, b)).toBeLessThan(-90);
    expect(Math.abs(parts.measured.integratedLufs - whole.measured.integratedLufs)).toBeLessThanOrEqual(0.2);
    expect(parts.measured.truePeakDbtp).toBe(whole.measured.truePeakDbtp);
    // The 100 ms frames on the episode's timeline, in order, as many as one run logs.
    expect(Math.abs(parts.frames.length - whole.frames.length)).toBeLessThanOrEqual(2);
    const times = Array.from({ length: parts.frames.length }, (_, i) => parts.frames.t(i));
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
    expect(times.at(-1)!).toBeCloseTo(whole.frames.t(whole.frames.length - 1), 0);
    // Read back as one WAV (the header we write, then the parts): its rate, channels, length.
    expect(parts.input).toMatch(/^concat:/);
    expect(probeStream(parts.input)).toMatchObject({ codec: "pcm_f32le", sampleRate: 44100, channels: 2 });
    expect(probeStream(parts.input).duration).toBeCloseTo(a.length / 2 / 44100, 3);
    shaped = parts.input;
  });

  it("is the one-process render of the gain and the oversampled limiter, seeking in the parts of the first", async () => {
    const { whole, parts, a, b } = await renderBoth(
      {
        input: shaped,
        inputRate: 44100,
        inputSeeksExactly: true,
        durationSeconds: probeStream(shaped).duration,
        chain: "volume=6dB:precision=float,aresample=88200,alimiter=limit=0.5:level=0:latency=1:attack=5:release=50,aresample=44100",
        outputRate: 44100,
        channels: 2,
        prerollSeconds: 1,
      },
      "limiter",
    );
    expect(parts.parts).toBe(2);
    expect(b.length).toBe(a.length);
    expect(largestDifferenceDb(a, b)).toBeLessThan(-90);
    expect(parts.measured.truePeakDbtp).toBe(whole.measured.truePeakDbtp);
  });

  it("renders in one process when the input's rate is unknown (no run-up can be placed on its samples)", async () => {
    const r = await renderMeasured(tools, new Slots(2), {
      input: interview,
      inputRate: 0,
      inputSeeksExactly: false,
      durationSeconds: probeStream(interview).duration,
      chain: "aresample=44100",
      outputRate: 44100,
      channels: 2,
      out: path.join(dir, "unknown-rate.wav"),
      prerollSeconds: 2,
      minPartSeconds: 20,
    });
    expect(r.parts).toBe(1);
    expect(probeStream(r.input).duration).toBeCloseTo(probeStream(interview).duration, 1);
  });

  it("writes an RF64 header past 4 GiB (EBU Tech 3306) and a RIFF one under it", () => {
    const small = wavHeader(44100, 2, 1000);
    expect(small.toString("latin1", 0, 4)).toBe("RIFF");
    expect(small.readUInt32LE(4)).toBe(1000 + 72);
    expect(small.readUInt32LE(76)).toBe(1000);
    const big = wavHeader(44100, 2, 6 * 2 ** 30);
    expect(big.toString("latin1", 0, 4)).toBe("RF64");
    expect(big.toString("latin1", 12, 16)).toBe("ds64");
    expect(big.readBigUInt64LE(28)).toBe(BigInt(6 * 2 ** 30));
    expect(big.readBigUInt64LE(36)).toBe(BigInt((6 * 2 ** 30) / 8));
    expect(big.readUInt32LE(76)).toBe(0xffffffff);
  });
});
