/**
 * Bench input: a file of exactly N MiB that the edge's sniffing accepts as
 * audio (a 16-bit stereo 44.1 kHz WAV header) followed by random bytes, which
 * nothing along the way can compress. Streamed to disk a few MiB at a time and
 * kept in the cache folder for the next run.
 */
import { randomFillSync } from "node:crypto";
import { mkdir, open, rename, stat } from "node:fs/promises";
import path from "node:path";

const MiB = 1024 * 1024;
const WRITE_BYTES = 8 * MiB;

export interface SourceFile {
  path: string;
  size: number;
}

function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii");
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(2, 22); // channels
  h.writeUInt32LE(44100, 24);
  h.writeUInt32LE(44100 * 4, 28); // byte rate
  h.writeUInt16LE(4, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write("data", 36, "ascii");
  h.writeUInt32LE(Math.min(0xffffffff, dataBytes), 40);
  return h;
}

export async function benchSource(dir: string, mib: number): Promise<SourceFile> {
  const size = mib * MiB;
  const file = path.join(dir, `upload-${mib}MiB.wav`);
  const existing = await stat(file).catch(() => undefined);
  if (existing?.size === size) return { path: file, size };

  await mkdir(dir, { recursive: true });
  const partial = `${file}.partial`;
  const handle = await open(partial, "w");
  try {
    await handle.write(wavHeader(size - 44));
    const buffer = Buffer.alloc(WRITE_BYTES);
    for (let written = 44; written < size; ) {
      const n = Math.min(WRITE_BYTES, size - written);
      randomFillSync(buffer, 0, n);
      await handle.write(buffer, 0, n);
      written += n;
    }
  } finally {
    await handle.close();
  }
  await rename(partial, file);
  return { path: file, size };
}
