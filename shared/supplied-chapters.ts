/**
 * Chapters a creator supplied after the upload (PUT /episodes/:id/chapters),
 * kept privately beside the upload (keys.suppliedChapters). They win over the
 * chapters read from the uploaded file: the pipeline embeds them if it runs
 * after they were stored, a re-tag run writes them into renditions that
 * already exist. An empty list means "no chapters" (the upload's removed).
 */
import type { Chapter } from "./episode.ts";

export interface SuppliedChapters {
  /** Short digest of the chapter list: the renditions record which revision they carry (Episode.embeddedChapters). */
  revision: string;
  chapters: Chapter[];
  suppliedAt: string;
}

/**
 * The revision of a chapter list, over what the renditions embed (times and
 * titles): the same chapters always give the same revision, and a change of
 * only a chapter's url or img (which live in chapters.json alone) needs no re-tag.
 */
export async function chaptersRevision(chapters: readonly Chapter[]): Promise<string> {
  const canonical = JSON.stringify(chapters.map((c) => [c.startTime, c.endTime ?? null, c.title]));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return [...new Uint8Array(digest).subarray(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function suppliedChapters(chapters: Chapter[], now = new Date()): Promise<SuppliedChapters> {
  return { revision: await chaptersRevision(chapters), chapters, suppliedAt: now.toISOString() };
}
