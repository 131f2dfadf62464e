/** Follows an episode through its stages, printing each change, until it is published or failed. */
import type { EdgeClient, EpisodeStatus } from "./edge-client.ts";
import { CliError, EXIT } from "./exit-codes.ts";

export function describeState(e: EpisodeStatus): string {
  switch (e.state) {
    case "uploading":
      return e.upload ? `uploading (${e.upload.bytesReceived} bytes stored)` : "uploading";
    case "queued":
      return "queued: waiting for the processor";
    case "processing":
      return e.stage ? `processing: ${e.stage}` : "processing";
    case "published":
      return "published";
    case "failed":
      return `failed: ${e.failure?.reason ?? "no reason given"}`;
    default:
      return String(e.state);
  }
}

export interface FollowOptions {
  pollMs: number;
  log: (line: string) => void;
}

/** Resolves with the published episode; a failed one ends with EXIT.episodeFailed and its reason. */
export async function followEpisode(client: EdgeClient, episodeId: string, opts: FollowOptions): Promise<EpisodeStatus> {
  let last = "";
  for (;;) {
    let episode: EpisodeStatus | undefined;
    try {
      episode = await client.episode(episodeId);
    } catch (err) {
      // A moment offline while following costs nothing: the episode carries on without us.
      if (!(err instanceof CliError && err.exitCode === EXIT.unreachable)) throw err;
    }
    if (episode) {
      const line = describeState(episode);
      if (line !== last) opts.log(line);
      last = line;
      if (episode.state === "published") return episode;
      if (episode.state === "failed") {
        throw new CliError(EXIT.episodeFailed, `episode ${episodeId} failed: ${episode.failure?.reason ?? "no reason given"}`);
      }
    }
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
}

/** What a creator wants once it is out: where to hear it and the feed apps subscribe to. */
export function publishedLines(episode: EpisodeStatus, feedUrl: string): string[] {
  return [`feed: ${feedUrl}`, ...renditionLines(episode)];
}

/** MP3 128k first: it is the feed's enclosure, the file every podcast app plays. */
export function renditionLines(episode: EpisodeStatus): string[] {
  const renditions = [...(episode.renditions ?? [])].sort((a, b) => Number(b.id === "mp3_128k") - Number(a.id === "mp3_128k"));
  return renditions.map((r) => `audio ${r.id}: ${r.url}`);
}
