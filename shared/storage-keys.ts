/**
 * Where everything lives in the one R2 bucket. Both the edge (R2 binding) and
 * the processor (S3 API) build keys only through these functions.
 *
 *   state/podcasts/{podcastId}.json                 podcast record (private)
 *   state/podcasts/{podcastId}/published/{eid}.json one entry per published episode: the feed's source
 *   state/episodes/{episodeId}.json                 episode record: state, stage, trace id (private)
 *   uploads/{podcastId}/{episodeId}/source          the raw upload, byte-identical to the creator's file (private)
 *   uploads/{podcastId}/{episodeId}/tail/...        staged bytes smaller than one multipart part (private)
 *   uploads/{podcastId}/{episodeId}/chapters.json   chapters the creator supplied after the upload (private; they win over the upload's)
 *   public/{podcastId}/feed.xml                     the RSS feed        -> GET /feeds/{podcastId}.xml
 *   public/{podcastId}/{episodeId}/{file}           renditions, waveform, chapters -> GET /media/{podcastId}/{episodeId}/{file}
 *
 * Only keys under `public/` are ever served to podcast apps.
 */

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Ids come from URLs: refuse anything that could escape its prefix. */
export function assertId(kind: string, id: string): string {
  if (!ID.test(id)) throw new Error(`invalid ${kind} id`);
  return id;
}

export const keys = {
  podcast: (podcastId: string) => `state/podcasts/${assertId("podcast", podcastId)}.json`,
  publishedPrefix: (podcastId: string) => `state/podcasts/${assertId("podcast", podcastId)}/published/`,
  published: (podcastId: string, episodeId: string) => `${keys.publishedPrefix(podcastId)}${assertId("episode", episodeId)}.json`,
  episode: (episodeId: string) => `state/episodes/${assertId("episode", episodeId)}.json`,
  uploadPrefix: (podcastId: string, episodeId: string) => `uploads/${assertId("podcast", podcastId)}/${assertId("episode", episodeId)}/`,
  source: (podcastId: string, episodeId: string) => `${keys.uploadPrefix(podcastId, episodeId)}source`,
  suppliedChapters: (podcastId: string, episodeId: string) => `${keys.uploadPrefix(podcastId, episodeId)}chapters.json`,
  feed: (podcastId: string) => `public/${assertId("podcast", podcastId)}/feed.xml`,
  publicPrefix: (podcastId: string, episodeId: string) => `public/${assertId("podcast", podcastId)}/${assertId("episode", episodeId)}/`,
  media: (podcastId: string, episodeId: string, file: string) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(file) || file.includes("..")) throw new Error("invalid media file name");
    return `${keys.publicPrefix(podcastId, episodeId)}${file}`;
  },
} as const;

/**
 * A rendition's file name in a generation: `audio-128k.mp3` as the pipeline
 * wrote it (generation 1), `audio-128k.g2.mp3` after the first re-tag. Media is
 * cached forever by URL (immutable), so changed bytes always get a new name.
 */
export function mediaFile(file: string, generation: number | undefined): string {
  if (!generation || generation <= 1) return file;
  if (!Number.isSafeInteger(generation)) throw new Error("invalid media generation");
  const dot = file.lastIndexOf(".");
  return dot > 0 ? `${file.slice(0, dot)}.g${generation}${file.slice(dot)}` : `${file}.g${generation}`;
}

/** Public URL paths (relative to PUBLIC_BASE_URL) for what lives under public/. */
export const publicPaths = {
  feed: (podcastId: string) => `/feeds/${assertId("podcast", podcastId)}.xml`,
  media: (podcastId: string, episodeId: string, file: string) =>
    `/media/${assertId("podcast", podcastId)}/${assertId("episode", episodeId)}/${file}`,
} as const;

export function publicUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, "") + path;
}
