/**
 * Chapters in ffmpeg's FFMETADATA1 format: given to the transcode ffmpeg as a
 * second input, its muxers write them natively (MP3: ID3v2 CHAP + CTOC, MP4:
 * chapter track, Ogg: CHAPTERxxx comments) with no second pass over the audio.
 */
import type { Chapter } from "../../shared/episode.ts";

const escapeValue = (s: string) => s.replace(/[\\=;#\n]/g, (c) => (c === "\n" ? " " : `\\${c}`));

export function ffmetadataChapters(chapters: Chapter[], durationSeconds: number): string {
  const out = [";FFMETADATA1"];
  chapters.forEach((c, i) => {
    const next = chapters[i + 1]?.startTime ?? durationSeconds;
    const end = Math.min(c.endTime ?? next, next, durationSeconds);
    out.push(
      "[CHAPTER]",
      "TIMEBASE=1/1000",
      `START=${Math.round(c.startTime * 1000)}`,
      `END=${Math.max(Math.round(end * 1000), Math.round(c.startTime * 1000) + 1)}`,
      `title=${escapeValue(c.title)}`,
    );
  });
  return `${out.join("\n")}\n`;
}
