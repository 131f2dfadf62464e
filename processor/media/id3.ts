/**
 * The one ID3v2.4 frame ffmpeg 5.1 cannot write: COMM. Its MP3 muxer stores a
 * "comment" as TXXX:comment, which players do not show. This rewrites the tag
 * at the front of an MP3 ffmpeg made: the TXXX:comment frame becomes a proper
 * COMM frame (UTF-8, language "eng"); every other frame (TIT2, TPE1, TALB,
 * TDRC, APIC, CHAP, CTOC...) is kept byte for byte. The audio is streamed into
 * a new file after the new tag, then renamed over the old one.
 */
import { open, rename } from "node:fs/promises";
import { fileChunks } from "../storage/file-chunks.ts";

const syncsafe = (b: Buffer, at: number) => (b[at]! << 21) | (b[at + 1]! << 14) | (b[at + 2]! << 7) | b[at + 3]!;

function toSyncsafe(n: number): Buffer {
  if (n >= 1 << 28) throw new Error("ID3 tag too large");
  return Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
}

function frame(id: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(id, "latin1"), toSyncsafe(body.length), Buffer.from([0, 0]), body]);
}

/** COMM: encoding 3 (UTF-8), language, empty content description, the text. */
export function commFrame(text: string, language = "eng"): Buffer {
  return frame("COMM", Buffer.concat([Buffer.from([3]), Buffer.from(language, "latin1"), Buffer.from([0]), Buffer.from(text, "utf8")]));
}

/** Is this TXXX frame's description `name`? (encoding byte, then a terminated description). */
function isTxxx(body: Buffer, name: string): boolean {
  const encoding = body[0];
  const desc = encoding === 1 || encoding === 2 ? body.subarray(1).toString("utf16le") : body.subarray(1).toString("utf8");
  return desc.split("\0")[0] === name;
}

export async function writeId3Comment(file: string, comment: string): Promise<void> {
  const fd = await open(file, "r");
  let header: Buffer;
  let body: Buffer;
  try {
    header = Buffer.alloc(10);
    await fd.read(header, 0, 10, 0);
    if (header.toString("latin1", 0, 3) !== "ID3" || header[3] !== 4) throw new Error(`${file} has no ID3v2.4 tag`);
    if (header[5]! & 0x40) throw new Error(`${file}: extended ID3 headers are not supported`);
    body = Buffer.alloc(syncsafe(header, 6));
    await fd.read(body, 0, body.length, 10);
  } finally {
    await fd.close();
  }
  const frames: Buffer[] = [];
  for (let at = 0; at + 10 <= body.length && body[at] !== 0; ) {
    const id = body.toString("latin1", at, at + 4);
    const size = syncsafe(body, at + 4);
    const whole = body.subarray(at, at + 10 + size);
    const keep = !(id === "TXXX" && isTxxx(whole.subarray(10), "comment")) && id !== "COMM";
    if (keep) frames.push(whole);
    at += 10 + size;
  }
  frames.push(commFrame(comment));
  const tag = Buffer.concat(frames);
  const newHeader = Buffer.concat([header.subarray(0, 6), toSyncsafe(tag.length)]);
  const tmp = `${file}.id3`;
  const out = await open(tmp, "w");
  try {
    await out.write(Buffer.concat([newHeader, tag]));
    for await (const chunk of fileChunks(file, { start: 10 + body.length })) await out.write(chunk);
  } finally {
    await out.close();
  }
  await rename(tmp, file);
}
