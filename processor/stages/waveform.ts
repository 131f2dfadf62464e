/**
 * Stage 5, audio.waveform: peaks for players' waveform views, in BBC
 * audiowaveform's formats (what peaks.js reads) plus a small SVG of the whole
 * episode. Computed in one streaming pass over the low-rate PCM tap that the
 * transcode's decode already produced (normalised audio, mono, 8 kHz): the
 * source is not decoded again and memory does not grow with length.
 *
 * Resolution: 8000 Hz x 800 samples per pixel = 10 pixels per second (one
 * min/max pair per 100 ms, 8-bit): 72,000 pairs (~300 KB JSON) per hour.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { once } from "node:events";
import path from "node:path";
import { ATTR } from "../../shared/telemetry.ts";
import { fileChunks } from "../storage/file-chunks.ts";
import type { StageContext } from "./context.ts";
import type { WaveformTap } from "./transcode.ts";

export interface WaveformInput {
  tap: WaveformTap;
  /** Where distribute will store the JSON (R2 key), for the span. */
  key?: string;
}

export interface WaveformOutput {
  json: string;
  dat: string;
  svg: string;
  /** Number of min/max pairs. */
  length: number;
  samplesPerPixel: number;
  sampleRate: number;
}

export const SAMPLES_PER_PIXEL = 800;
export const WAVEFORM_FILES = { json: "waveform.json", dat: "waveform.dat", svg: "waveform.svg" } as const;
/** The overview image: this many columns at most, whatever the episode's length. */
export const SVG_COLUMNS = 1000;
const SVG_HEIGHT = 100;

export async function waveform(input: WaveformInput, ctx: StageContext): Promise<WaveformOutput> {
  const { sampleRate } = input.tap;
  const totalSamples = Math.floor((await stat(input.tap.path)).size / 2);
  const length = Math.ceil(totalSamples / SAMPLES_PER_PIXEL);
  const out = {
    json: path.join(ctx.jobDir, WAVEFORM_FILES.json),
    dat: path.join(ctx.jobDir, WAVEFORM_FILES.dat),
    svg: path.join(ctx.jobDir, WAVEFORM_FILES.svg),
  };
  const json = createWriteStream(out.json);
  const dat = createWriteStream(out.dat);
  const write = async (ws: WriteStream, data: string | Buffer) => {
    if (!ws.write(data)) await once(ws, "drain");
  };

  // .dat version 2: int32 version, uint32 flags (1 = 8-bit), int32 rate, int32 samples/pixel, uint32 length, int32 channels.
  const header = Buffer.alloc(24);
  header.writeInt32LE(2, 0);
  header.writeUInt32LE(1, 4);
  header.writeInt32LE(sampleRate, 8);
  header.writeInt32LE(SAMPLES_PER_PIXEL, 12);
  header.writeUInt32LE(length, 16);
  header.writeInt32LE(1, 20);
  await write(dat, header);
  await write(
    json,
    `{"version":2,"channels":1,"sample_rate":${sampleRate},"samples_per_pixel":${SAMPLES_PER_PIXEL},"bits":8,"length":${length},"data":[`,
  );

  const columns = Math.max(1, Math.min(SVG_COLUMNS, length));
  const colMin = new Int8Array(columns).fill(0);
  const colMax = new Int8Array(columns).fill(0);
  let pixel = 0;
  let inPixel = 0;
  let min = 127;
  let max = -128;
  let datChunk: number[] = [];
  let jsonChunk: string[] = [];
  const flush = async () => {
    if (datChunk.length) await write(dat, Buffer.from(Int8Array.from(datChunk).buffer));
    if (jsonChunk.length) await write(json, jsonChunk.join(""));
    datChunk = [];
    jsonChunk = [];
  };
  const endPixel = () => {
    jsonChunk.push(`${pixel ? "," : ""}${min},${max}`);
    datChunk.push(min, max);
    const col = Math.min(columns - 1, Math.floor((pixel * columns) / length));
    if (min < colMin[col]!) colMin[col] = min;
    if (max > colMax[col]!) colMax[col] = max;
    pixel++;
    inPixel = 0;
    min = 127;
    max = -128;
  };

  // A sample can straddle two chunks (its low byte ends one): only its high byte counts, at the next one's start.
  let straddling = false;
  const sample = (v: number) => {
    if (v < min) min = v;
    if (v > max) max = v;
    if (++inPixel === SAMPLES_PER_PIXEL) endPixel();
  };
  for await (const chunk of fileChunks(input.tap.path, { signal: ctx.signal })) {
    let i = 0;
    if (straddling) {
      sample((chunk[0]! << 24) >> 24); // the high byte, signed
      i = 1;
    }
    // 16 -> 8 bit the way audiowaveform does it: keep the high byte.
    for (; i + 1 < chunk.length; i += 2) sample(chunk.readInt16LE(i) >> 8);
    straddling = i < chunk.length;
    await flush();
  }
  if (inPixel > 0) endPixel();
  await flush();
  await write(json, "]}");
  json.end();
  dat.end();
  await Promise.all([once(json, "finish"), once(dat, "finish")]);

  const svg = createWriteStream(out.svg);
  svg.end(waveformSvg(colMin, colMax));
  await once(svg, "finish");

  ctx.span.setAttributes({
    "audio.waveform.length": pixel,
    "audio.waveform.samples_per_pixel": SAMPLES_PER_PIXEL,
    "audio.waveform.sample_rate": sampleRate,
    ...(input.key ? { [ATTR.waveformPath]: input.key } : {}),
  });
  return { ...out, length: pixel, samplesPerPixel: SAMPLES_PER_PIXEL, sampleRate };
}

/** One vertical bar per column, from each column's min to its max, centred on the mid line. */
export function waveformSvg(colMin: Int8Array, colMax: Int8Array): string {
  const mid = SVG_HEIGHT / 2;
  const scale = mid / 128;
  const d: string[] = [];
  for (let x = 0; x < colMin.length; x++) {
    const top = (mid - colMax[x]! * scale).toFixed(1);
    const h = Math.max(0.5, (colMax[x]! - colMin[x]!) * scale).toFixed(1);
    d.push(`M${x} ${top}v${h}`);
  }
  // A size of its own (an <img> without one collapses) and a colour that reads on light and dark pages
  // (currentColor is black inside an <img>); inline, CSS can still restyle the path.
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SVG_COLUMNS}" height="${SVG_HEIGHT}" viewBox="0 0 ${colMin.length} ${SVG_HEIGHT}" preserveAspectRatio="none">` +
    `<path class="waveform" d="${d.join("")}" stroke="#3b82f6" stroke-width="1" fill="none"/></svg>`
  );
}
