/**
 * tus checksum extension: `Upload-Checksum: <algorithm> <base64 digest>` on a
 * PATCH (or a creation-with-upload POST). The digest is computed while the
 * chunk streams through, so the chunk is never held whole.
 */

export const CHECKSUM_ALGORITHMS = { sha1: "SHA-1", sha256: "SHA-256" } as const;
export type ChecksumAlgorithm = keyof typeof CHECKSUM_ALGORITHMS;

export interface ExpectedChecksum {
  algorithm: ChecksumAlgorithm;
  digest: Uint8Array;
}

export class ChecksumHeaderError extends Error {}

/** Parses Upload-Checksum; undefined when absent, ChecksumHeaderError (400) for an unknown algorithm or a malformed digest. */
export function parseUploadChecksum(header: string | null): ExpectedChecksum | undefined {
  if (header === null) return undefined;
  const m = /^\s*([A-Za-z0-9-]+) ([A-Za-z0-9+/]+={0,2})\s*$/.exec(header);
  if (!m) throw new ChecksumHeaderError("Upload-Checksum must be an algorithm name, a space and a base64 digest");
  const algorithm = m[1]!.toLowerCase();
  if (!(algorithm in CHECKSUM_ALGORITHMS)) {
    throw new ChecksumHeaderError(
      `Upload-Checksum algorithm "${algorithm}" is not supported (use ${Object.keys(CHECKSUM_ALGORITHMS).join(" or ")})`,
    );
  }
  let digest: Uint8Array;
  try {
    digest = Uint8Array.from(atob(m[2]!), (ch) => ch.charCodeAt(0));
  } catch {
    throw new ChecksumHeaderError("Upload-Checksum digest is not valid base64");
  }
  const expectedBytes = algorithm === "sha1" ? 20 : 32;
  if (digest.length !== expectedBytes) {
    throw new ChecksumHeaderError(`Upload-Checksum ${algorithm} digest must be ${expectedBytes} bytes (base64-encoded)`);
  }
  return { algorithm: algorithm as ChecksumAlgorithm, digest };
}

/** Incremental digest of one chunk (workerd's DigestStream), compared at the end in constant time. */
export class ChunkDigest {
  readonly #expected: ExpectedChecksum;
  readonly #stream: DigestStream;
  readonly #writer: WritableStreamDefaultWriter<ArrayBuffer | ArrayBufferView>;

  constructor(expected: ExpectedChecksum) {
    this.#expected = expected;
    this.#stream = new crypto.DigestStream(CHECKSUM_ALGORITHMS[expected.algorithm]);
    this.#writer = this.#stream.getWriter();
  }

  update(bytes: Uint8Array): Promise<void> {
    return this.#writer.write(bytes);
  }

  async matches(): Promise<boolean> {
    await this.#writer.close();
    const actual = new Uint8Array(await this.#stream.digest);
    return actual.length === this.#expected.digest.length && crypto.subtle.timingSafeEqual(actual, this.#expected.digest);
  }

  /** Releases the stream when the chunk is abandoned. */
  discard(): void {
    this.#writer.abort().catch(() => {});
  }
}
