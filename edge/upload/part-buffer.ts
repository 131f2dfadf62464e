/**
 * The one part an upload holds in memory: bytes are copied in until the part
 * size is reached, then the full part is handed to `onFull` (which stores it)
 * and the buffer starts over. It begins with the staged tail of the previous
 * chunk, if any. Before the first part exists it also decides, from the
 * file's first bytes, whether the upload is audio at all.
 */
import { sniffAudio, SNIFF_BYTES } from "./sniff.ts";

export class PartBuffer {
  readonly bytes: Uint8Array;
  /** Bytes of the current part filled so far. */
  fill: number;
  /** Offset in the file of the next byte. */
  offset: number;
  sniffed: boolean;

  constructor(partBytes: number, start: { fill: number; offset: number; sniffed: boolean }) {
    this.bytes = new Uint8Array(partBytes);
    this.fill = start.fill;
    this.offset = start.offset;
    this.sniffed = start.sniffed;
  }

  /**
   * Copies `chunk` in, calling `onFull` for every part it completes.
   * Returns false (and stops) as soon as the first bytes are known not to be audio.
   */
  async push(chunk: Uint8Array, onFull: (part: Uint8Array) => Promise<void>): Promise<boolean> {
    for (let at = 0; at < chunk.byteLength; ) {
      const n = Math.min(this.bytes.length - this.fill, chunk.byteLength - at);
      this.bytes.set(chunk.subarray(at, at + n), this.fill);
      this.fill += n;
      this.offset += n;
      at += n;
      // While nothing is sniffed no part exists yet, so the buffer starts at byte 0 of the file.
      if (!this.sniffed && this.offset >= SNIFF_BYTES) {
        if (!sniffAudio(this.bytes.subarray(0, this.fill))) return false;
        this.sniffed = true;
      }
      if (this.fill === this.bytes.length) {
        await onFull(this.bytes);
        this.fill = 0;
      }
    }
    return true;
  }

  /** The bytes after the last full part. */
  rest(): Uint8Array {
    return this.bytes.subarray(0, this.fill);
  }

  /** At the end of a file shorter than SNIFF_BYTES: whether what there is is audio. */
  sniffRest(): boolean {
    if (!this.sniffed) this.sniffed = !!sniffAudio(this.rest());
    return this.sniffed;
  }
}
