/** A single byte range resolved against an object's size (RFC 9110 §14). */
export type ByteRange = { offset: number; length: number };

/**
 * Parses a Range header for an object of `size` bytes.
 *  - undefined: no usable range; serve the whole object (also for multi-range
 *    requests, which RFC 9110 lets a server answer with 200).
 *  - "unsatisfiable": answer 416 with `Content-Range: bytes *\/size`.
 */
export function parseRange(header: string | null | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, first, last] = m;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    // Suffix range: the last N bytes.
    const n = Number(last);
    if (n === 0) return "unsatisfiable";
    const length = Math.min(n, size);
    return size === 0 ? "unsatisfiable" : { offset: size - length, length };
  }
  const start = Number(first);
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return undefined;
  return { offset: start, length: end - start + 1 };
}
