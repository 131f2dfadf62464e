/** A creator's view of the local stack: upload a file with tus-js-client, then follow the episode. */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import * as tus from "tus-js-client";
import type { Episode } from "../../shared/episode.ts";

export interface UploadedFile {
  episodeId: string;
  /** The Episode-Id header of the creation response. */
  episodeIdHeader: string | null;
}

/** Streams `file` to the edge's tus endpoint; resolves when tus-js-client reports success. */
export async function uploadFile(
  edgeUrl: string,
  uploadToken: string,
  file: string,
  metadata: { title: string; filename: string; filetype?: string },
  chunkSize = 1024 * 1024,
  /** Called once the upload exists, before any of its data is sent (so before its job can start). */
  onCreated?: (episodeId: string) => void,
): Promise<UploadedFile> {
  const { size } = await stat(file);
  return new Promise((resolve, reject) => {
    let episodeIdHeader: string | null = null;
    const upload = new tus.Upload(createReadStream(file), {
      endpoint: `${edgeUrl}/uploads`,
      uploadSize: size,
      chunkSize,
      headers: { Authorization: `Bearer ${uploadToken}` },
      metadata: { filetype: "audio/wav", ...metadata },
      retryDelays: [],
      onAfterResponse(req, res) {
        if (req.getMethod() === "POST") episodeIdHeader = res.getHeader("Episode-Id") ?? null;
      },
      onUploadUrlAvailable() {
        onCreated?.(upload.url!.split("/").pop()!);
      },
      onError: reject,
      onSuccess() {
        resolve({ episodeId: upload.url!.split("/").pop()!, episodeIdHeader });
      },
    });
    upload.start();
  });
}

export async function getEpisode(edgeUrl: string, token: string, episodeId: string): Promise<Episode> {
  const res = await fetch(`${edgeUrl}/episodes/${episodeId}`, { headers: { Authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET /episodes/${episodeId}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Episode;
}

/**
 * Polls the status API until the episode is published or failed. Returns the
 * final record and every state (with stage) seen on the way.
 */
export async function waitForOutcome(
  edgeUrl: string,
  token: string,
  episodeId: string,
  timeoutMs: number,
  diagnostics: () => string = () => "",
): Promise<{ episode: Episode; statesSeen: string[] }> {
  const statesSeen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const episode = await getEpisode(edgeUrl, token, episodeId);
    const label = episode.state === "processing" ? `processing:${episode.stage}` : episode.state;
    if (statesSeen.at(-1) !== label) statesSeen.push(label);
    if (episode.state === "published" || episode.state === "failed") return { episode, statesSeen };
    if (Date.now() > deadline)
      throw new Error(`episode ${episodeId} not done in time; states: ${statesSeen.join(" > ")}\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
