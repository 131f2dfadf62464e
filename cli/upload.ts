/**
 * Sends one file with tus-js-client in resumable chunks, resuming an earlier
 * unfinished upload of the same file to the same edge. Resolves with the
 * episode id once every byte is stored.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import * as tus from "tus-js-client";
import { networkReason } from "./edge-client.ts";
import { CliError, EXIT } from "./exit-codes.ts";
import { filetypeOf } from "./metadata-flags.ts";
import { ProgressReporter, megabytes, type ProgressOutput } from "./progress.ts";
import { resumeStore } from "./resume-store.ts";

/**
 * 50 MiB: Cloudflare refuses request bodies over 100 MB (Free and Pro), and
 * the edge cuts uploads into 10 MiB R2 parts, so each chunk is five whole parts.
 */
export const DEFAULT_CHUNK_BYTES = 50 * 1024 * 1024;
export const MAX_CHUNK_BYTES = 95 * 1024 * 1024;
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000, 20000, 30000];

export interface UploadRequest {
  edgeUrl: string;
  token: string;
  file: string;
  metadata: Record<string, string>;
  chunkBytes: number;
  /** Resolves when the creator asks to stop (Ctrl-C): the upload is paused, its bytes kept. */
  stop: Promise<void>;
  out: ProgressOutput;
  log: (line: string) => void;
}

export async function uploadFile(req: UploadRequest): Promise<string> {
  const size = (
    await stat(req.file).catch(() => {
      throw new CliError(EXIT.usage, `cannot read ${req.file}: no such file`);
    })
  ).size;
  if (size === 0) throw new CliError(EXIT.usage, `${req.file} is empty`);
  const filename = path.basename(req.file);
  const filetype = filetypeOf(filename);
  const { storage } = resumeStore();
  const progress = new ProgressReporter(req.out);

  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const episodeIdOf = (url: string | null) => (url ? new URL(url).pathname.split("/").pop()! : "");
    const upload = new tus.Upload(createReadStream(path.resolve(req.file)) as unknown as Blob, {
      endpoint: `${req.edgeUrl}/uploads`,
      headers: { Authorization: `Bearer ${req.token}` },
      metadata: { ...req.metadata, filename, ...(filetype ? { filetype } : {}) },
      chunkSize: req.chunkBytes,
      retryDelays: RETRY_DELAYS_MS,
      urlStorage: storage,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onUploadUrlAvailable() {
        req.log(`episode ${episodeIdOf(upload.url)}: uploading ${filename} (${megabytes(size)} MB)`);
      },
      onAfterResponse(request, response) {
        // A resume asks HEAD where the upload stands: the rate counts from there.
        if (request.getMethod() === "HEAD" && response.getStatus() === 200) {
          const offset = Number(response.getHeader("Upload-Offset")) || 0;
          req.log(`resuming: ${megabytes(offset)} of ${megabytes(size)} MB already stored`);
          progress.start(offset);
        }
      },
      onProgress(sent, total) {
        progress.update(sent, total);
      },
      onError(err) {
        progress.finish();
        if (!settled) {
          settled = true;
          reject(explain(err, req.edgeUrl));
        }
      },
      onSuccess() {
        progress.update(size, size, true);
        progress.finish();
        settled = true;
        resolve(episodeIdOf(upload.url));
      },
    });

    void req.stop.then(async () => {
      if (settled) return;
      settled = true;
      await upload.abort(false);
      progress.finish();
      reject(new CliError(EXIT.interrupted, "interrupted: the bytes sent so far are kept; run the same command again to resume"));
    });

    progress.start(0);
    upload
      .findPreviousUploads()
      .then((previous) => {
        // The newest record for this file and edge (older ones may have expired).
        const last = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
        if (last) {
          upload.resumeFromPreviousUpload(last);
          req.log(`found an unfinished upload of this file: episode ${episodeIdOf(last.uploadUrl)}`);
        }
        if (!settled) upload.start();
      })
      .catch((err) => {
        settled = true;
        reject(err);
      });
  });
}

/** tus-js-client's error as one line and an exit code. */
function explain(err: Error, edgeUrl: string): CliError {
  const detailed = err as tus.DetailedError;
  const res = detailed.originalResponse;
  if (res) {
    const status = res.getStatus();
    let message = "";
    try {
      message = (JSON.parse(res.getBody() || "{}") as { error?: string }).error ?? "";
    } catch {
      message = res.getBody()?.slice(0, 200) ?? "";
    }
    if (status === 401 || status === 403) {
      return new CliError(EXIT.tokenRefused, `the upload token was not accepted by ${edgeUrl} (${status}: ${message || "refused"})`);
    }
    if (status >= 400 && status < 500)
      return new CliError(EXIT.uploadRefused, `the edge refused the upload (${status}): ${message || "no reason given"}`);
    return new CliError(
      EXIT.unreachable,
      `the edge kept failing (${status}: ${message || "no reason given"}); run the same command again to resume`,
    );
  }
  const cause = detailed.causingError ?? err;
  return new CliError(
    EXIT.unreachable,
    `the connection to ${edgeUrl} failed (${networkReason(cause)}); run the same command again to resume`,
  );
}
