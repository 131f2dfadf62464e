import { keys } from "../../shared/storage-keys.ts";
import type { Podcast } from "../../shared/podcast.ts";
import { readRecord, writeRecord } from "../records.ts";

export const readPodcast = (bucket: R2Bucket, podcastId: string) => readRecord<Podcast>(bucket, keys.podcast(podcastId));

export const writePodcast = (bucket: R2Bucket, podcast: Podcast) => writeRecord(bucket, keys.podcast(podcast.podcastId), podcast);
