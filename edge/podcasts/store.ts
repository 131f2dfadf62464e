import { keys } from "../../shared/storage-keys.ts";
import type { Podcast } from "../../shared/podcast.ts";

export async function readPodcast(bucket: R2Bucket, podcastId: string): Promise<Podcast | null> {
  const obj = await bucket.get(keys.podcast(podcastId));
  return obj ? ((await obj.json()) as Podcast) : null;
}

export async function writePodcast(bucket: R2Bucket, podcast: Podcast): Promise<void> {
  await bucket.put(keys.podcast(podcast.podcastId), JSON.stringify(podcast), {
    httpMetadata: { contentType: "application/json" },
  });
}
