/**
 * The output gain of an Ogg Opus file (RFC 7845 section 5.1): a Q7.8 dB gain
 * in the OpusHead header that decoders apply to everything they decode
 * ("Players and media frameworks SHOULD apply it by default"; ffmpeg,
 * libopusfile and Firefox do). It is Opus' own lossless way to set a file's
 * level: changing it scales the decoded audio exactly, loudness and true peak
 * alike, without encoding again. OpusHead is alone on the stream's first
 * page, so the change rewrites 2 bytes and that page's CRC in place.
 */
import { open } from "node:fs/promises";

const PAGE_HEADER = 27;
const MAX_PAGE = PAGE_HEADER + 255 + 255 * 255;

/** The first page of the file and where OpusHead's output gain sits in it. */
async function firstPage(file: string): Promise<{ page: Buffer; gainAt: number }> {
  const fh = await open(file, "r");
  try {
    const head = Buffer.alloc(MAX_PAGE);
    const { bytesRead } = await fh.read(head, 0, MAX_PAGE, 0);
    if (bytesRead < PAGE_HEADER || head.toString("latin1", 0, 4) !== "OggS") throw new Error(`${file}: not an Ogg stream`);
    const segments = head[26]!;
    const body = head.subarray(PAGE_HEADER, PAGE_HEADER + segments).reduce((n, s) => n + s, 0);
    const size = PAGE_HEADER + segments + body;
    if (size > bytesRead) throw new Error(`${file}: first Ogg page truncated`);
    const payload = PAGE_HEADER + segments;
    if (head.toString("latin1", payload, payload + 8) !== "OpusHead" || body < 19) throw new Error(`${file}: first page is not OpusHead`);
    return { page: Buffer.from(head.subarray(0, size)), gainAt: payload + 16 };
  } finally {
    await fh.close();
  }
}

/** The file's output gain, dB. */
export async function readOpusOutputGain(file: string): Promise<number> {
  const { page, gainAt } = await firstPage(file);
  return page.readInt16LE(gainAt) / 256;
}

/**
 * Adds `db` to the file's output gain (the result rounded to 1/256 dB), in
 * place: on top of what the header says, since a measurement of the file
 * already includes that. Returns the output gain now in the header.
 */
export async function addOpusOutputGain(file: string, db: number): Promise<number> {
  const { page, gainAt } = await firstPage(file);
  const q = Math.max(-32768, Math.min(32767, Math.round((page.readInt16LE(gainAt) / 256 + db) * 256)));
  page.writeInt16LE(q, gainAt);
  page.writeUInt32LE(0, 22);
  page.writeUInt32LE(oggCrc(page), 22);
  const fh = await open(file, "r+");
  try {
    await fh.write(page, 0, page.length, 0);
  } finally {
    await fh.close();
  }
  return q / 256;
}

let table: Uint32Array | undefined;

/** Ogg's page checksum: CRC-32, polynomial 0x04c11db7, not reflected, initial value and final xor 0. */
export function oggCrc(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let r = i << 24;
      for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
      table[i] = r >>> 0;
    }
  }
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ table[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc;
}
