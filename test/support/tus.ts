/**
 * Raw tus 1.0 requests (for protocol tests that need exact control over
 * headers) and tus-js-client runs in Node (for what real clients do).
 */
import { createHash } from "node:crypto";
import * as tus from "tus-js-client";

export const TUS = { "Tus-Resumable": "1.0.0" } as const;

/** Upload-Metadata from plain values. */
export function uploadMetadata(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${Buffer.from(v, "utf8").toString("base64")}`)
    .join(",");
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

export function checksum(algorithm: "sha1" | "sha256", bytes: Uint8Array): string {
  return `${algorithm} ${createHash(algorithm).update(bytes).digest("base64")}`;
}

export interface CreateOptions {
  length?: number | "deferred";
  metadata?: string | null;
  body?: Uint8Array;
  headers?: Record<string, string>;
}

/** POST /uploads. */
export function createUpload(edgeUrl: string, token: string, opts: CreateOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...TUS, ...bearer(token) };
  if (opts.length === "deferred") headers["Upload-Defer-Length"] = "1";
  else if (opts.length !== undefined) headers["Upload-Length"] = String(opts.length);
  const metadata = opts.metadata === undefined ? uploadMetadata({ title: "Episode 1", filename: "episode-1.wav" }) : opts.metadata;
  if (metadata !== null) headers["Upload-Metadata"] = metadata;
  if (opts.body) headers["Content-Type"] = "application/offset+octet-stream";
  return fetch(`${edgeUrl}/uploads`, { method: "POST", headers: { ...headers, ...opts.headers }, body: opts.body });
}

/** PATCH a chunk at `offset`. */
export function patchUpload(
  url: string,
  token: string,
  offset: number,
  body: Uint8Array | ReadableStream<Uint8Array> | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "PATCH",
    headers: { ...TUS, ...bearer(token), "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset), ...headers },
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}

export function headUpload(url: string, token: string): Promise<Response> {
  return fetch(url, { method: "HEAD", headers: { ...TUS, ...bearer(token) } });
}

export function deleteUpload(url: string, token: string): Promise<Response> {
  return fetch(url, { method: "DELETE", headers: { ...TUS, ...bearer(token) } });
}

export interface ClientRun {
  /** "done" when tus-js-client reported success, "stopped" when stopped at `stopAfterBytes`. */
  result: "done" | "stopped";
  url: string;
}

export interface ClientOptions {
  edgeUrl: string;
  token: string;
  /** The file, or a stream when the length is deferred. */
  source: Buffer | NodeJS.ReadableStream;
  /** Resume this upload instead of creating one. */
  uploadUrl?: string;
  chunkSize?: number;
  metadata?: Record<string, string>;
  uploadLengthDeferred?: boolean;
  uploadDataDuringCreation?: boolean;
  retryDelays?: number[];
  /** Abort (without terminating) once this many bytes of the file have been sent: the request breaks mid-chunk. */
  stopAfterBytes?: number;
  /** With stopAfterBytes: terminate the upload (tus-js-client sends DELETE) instead of leaving it open. */
  terminate?: boolean;
  /** Called with the Upload-Offset of every successful HEAD (each time the client resumes). */
  onResume?: (offset: number) => void;
  /** Called with every response's method and status. */
  onResponse?: (method: string, status: number) => void;
}

/** Runs tus-js-client the way a creator's app does. */
export function runTusClient(opts: ClientOptions): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    let stopped = false;
    const upload = new tus.Upload(opts.source as Buffer, {
      ...(opts.uploadUrl ? { uploadUrl: opts.uploadUrl } : { endpoint: `${opts.edgeUrl}/uploads` }),
      ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
      ...(opts.uploadLengthDeferred ? { uploadLengthDeferred: true } : {}),
      ...(opts.uploadDataDuringCreation ? { uploadDataDuringCreation: true } : {}),
      headers: bearer(opts.token),
      metadata: opts.metadata ?? { title: "Test episode", filename: "episode.wav", filetype: "audio/wav" },
      retryDelays: opts.retryDelays ?? [0, 300, 1000, 2000, 3000],
      onProgress(sent) {
        if (opts.stopAfterBytes !== undefined && !stopped && sent >= opts.stopAfterBytes) {
          stopped = true;
          upload.abort(opts.terminate === true).then(() => resolve({ result: "stopped", url: upload.url! }), reject);
        }
      },
      onAfterResponse(req, res) {
        opts.onResponse?.(req.getMethod(), res.getStatus());
        if (req.getMethod() === "HEAD" && res.getStatus() === 200) opts.onResume?.(Number(res.getHeader("Upload-Offset")));
      },
      onError: (err) => {
        if (!stopped) reject(err);
      },
      onSuccess: () => {
        if (!stopped) resolve({ result: "done", url: upload.url! });
      },
    });
    upload.start();
  });
}
