/**
 * A show's episodes, findable again: one empty marker per episode under the
 * show, named so that R2's lexicographic listing gives newest first
 * (inverted creation time, then the id). Written when the upload starts.
 */
import { assertId } from "./storage-keys.ts";

const LATEST = 9_999_999_999_999;

export const episodeIndex = {
  prefix: (podcastId: string) => `state/podcasts/${assertId("podcast", podcastId)}/episodes/`,
  key: (podcastId: string, createdAt: string, episodeId: string) =>
    `${episodeIndex.prefix(podcastId)}${String(LATEST - Date.parse(createdAt)).padStart(13, "0")}_${assertId("episode", episodeId)}`,
};
