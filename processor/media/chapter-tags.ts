/**
 * The ffmpeg arguments that rewrite a finished rendition's chapters by stream
 * copy: the audio packets (and the cover picture) are copied as they are, the
 * container is written again with the new chapters and the file's other tags.
 * MP3: ID3v2.4 CHAP + CTOC; MP4: chapter track; Ogg Opus: CHAPTERxxx comments.
 */
import type { Chapter } from "../../shared/episode.ts";
import type { RenditionSpec } from "../../shared/renditions.ts";

/**
 * Ogg chapters are written as plain Vorbis comments, not through ffmpeg's
 * chapter muxing: ffmpeg 5.1 rounds the seconds of CHAPTERxxx to the nearest
 * whole second before adding the milliseconds (7.5 s is written 00:00:08.500).
 */
export function vorbisChapterComments(chapters: readonly Chapter[]): [string, string][] {
  return chapters.flatMap((c, i) => {
    const n = String(i).padStart(3, "0");
    return [
      [`CHAPTER${n}`, clock(c.startTime)],
      [`CHAPTER${n}NAME`, c.title.replace(/[\r\n]+/g, " ")],
    ] as [string, string][];
  });
}

function clock(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/**
 * `chaptersFile`: the chapters in FFMETADATA1 (processor/media/ffmetadata.ts), for MP3 and MP4;
 * absent (or an empty `chapters`) removes the chapters.
 */
export function retagArgs(
  spec: RenditionSpec,
  input: string,
  output: string,
  chapters: readonly Chapter[],
  chaptersFile?: string,
): string[] {
  const withFile = chapters.length > 0 && chaptersFile !== undefined && spec.codec !== "opus";
  const args = ["-nostdin", "-hide_banner", "-nostats", "-v", "error", "-y", "-i", input];
  if (withFile) args.push("-f", "ffmetadata", "-i", chaptersFile);
  // Only the audio and the cover: an MP4's old chapter track is a data stream, not copied.
  args.push("-map", "0:a", "-map", "0:v?", "-c", "copy", "-map_metadata", "0", "-map_chapters", withFile ? "1" : "-1");
  switch (spec.codec) {
    case "mp3":
      args.push("-id3v2_version", "4", "-write_id3v1", "0");
      break;
    case "aac":
      args.push("-movflags", "+faststart");
      break;
    case "opus":
      for (const [k, v] of vorbisChapterComments(chapters)) args.push("-metadata", `${k}=${v}`);
      args.push("-f", "opus");
      break;
  }
  args.push(output);
  return args;
}

/**
 * One ffmpeg that hashes the audio packets of two files as stored (no decode), into `before` and
 * `after`: equal after a re-tag, or the audio changed.
 */
export function audioPacketsMd5Args(input: string, output: string, before: string, after: string): string[] {
  const hash = (i: number, to: string) => ["-map", `${i}:a`, "-c", "copy", "-f", "md5", to];
  return ["-nostdin", "-hide_banner", "-nostats", "-v", "error", "-y", "-i", input, "-i", output, ...hash(0, before), ...hash(1, after)];
}
