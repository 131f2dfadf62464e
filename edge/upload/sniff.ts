/**
 * Recognises the audio containers the pipeline accepts from an upload's first
 * bytes, so that a video, an archive or a document is refused before
 * gigabytes of it are stored.
 */

export type AudioContainer = "wav" | "flac" | "mp3" | "ogg" | "mp4";

/** Bytes needed to decide (RIFF/RF64 + size + WAVE; MP4's box size + ftyp). */
export const SNIFF_BYTES = 12;

export const SUPPORTED_CONTAINERS = "WAV (RIFF/RF64), FLAC, MP3 (ID3 tag or MPEG audio frame), Ogg, MP4/M4A";

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/** An MPEG-1/2/2.5 audio frame header (layers I-III): sync, a valid layer, bitrate and sample rate. */
function isMpegAudioFrame(b: Uint8Array): boolean {
  if (b.length < 4 || b[0] !== 0xff || (b[1]! & 0xe0) !== 0xe0) return false;
  const version = (b[1]! >> 3) & 0b11; // 01 is reserved
  const layer = (b[1]! >> 1) & 0b11; // 00 is reserved (and ADTS AAC)
  const bitrate = b[2]! >> 4; // 1111 is invalid
  const sampleRate = (b[2]! >> 2) & 0b11; // 11 is reserved
  return version !== 0b01 && layer !== 0 && bitrate !== 0b1111 && sampleRate !== 0b11;
}

/** The container the bytes start with, or undefined (also when fewer than SNIFF_BYTES are given). */
export function sniffAudio(head: Uint8Array): AudioContainer | undefined {
  if (head.length < SNIFF_BYTES) return undefined;
  const magic = ascii(head, 0, 4);
  if ((magic === "RIFF" || magic === "RF64" || magic === "BW64") && ascii(head, 8, 12) === "WAVE") return "wav";
  if (magic === "fLaC") return "flac";
  if (magic === "OggS") return "ogg";
  if (ascii(head, 4, 8) === "ftyp") return "mp4";
  if (ascii(head, 0, 3) === "ID3") return "mp3";
  if (isMpegAudioFrame(head)) return "mp3";
  return undefined;
}
