/**
 * Reading an episode's renditions back as players do, for the chapter tests:
 * each file as the edge serves it (its length checked against the record),
 * its chapters by ffprobe and by music-metadata, and an MD5 of its audio
 * packets as stored (equal before and after a re-tag, or the audio changed).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseFile } from "music-metadata";
import type { Episode } from "../../shared/episode.ts";

export interface ReadChapter {
  start: number;
  title?: string;
}

type Probe = { chapters: { start_time: string; tags?: { title?: string } }[] };

const run = promisify(execFile);

export const ffprobeChapters = async (file: string): Promise<ReadChapter[]> =>
  (JSON.parse((await run("ffprobe", ["-v", "error", "-of", "json", "-show_chapters", file])).stdout) as Probe).chapters.map((c) => ({
    start: Number(c.start_time),
    title: c.tags?.title,
  }));

export const audioPacketsMd5 = async (file: string): Promise<string> =>
  (await run("ffmpeg", ["-nostdin", "-v", "error", "-i", file, "-map", "0:a", "-c", "copy", "-f", "md5", "-"])).stdout.trim();

/** Chapters as music-metadata reads them: MP3/MP4 chapters in seconds; Ogg's CHAPTERxxx comments (it has no chapter model for Ogg). */
export async function musicMetadataChapters(file: string): Promise<ReadChapter[]> {
  const meta = await parseFile(file, { includeChapters: true });
  if (meta.format.container?.toLowerCase().includes("ogg")) {
    const tags = Object.values(meta.native).flat();
    const value = (id: string) => tags.find((t) => t.id.toUpperCase() === id)?.value as string | undefined;
    const out: ReadChapter[] = [];
    for (let i = 0; ; i++) {
      const n = String(i).padStart(3, "0");
      const at = value(`CHAPTER${n}`);
      if (at === undefined) return out;
      const [h, m, s] = at.split(":").map(Number);
      out.push({ start: h! * 3600 + m! * 60 + s!, title: value(`CHAPTER${n}NAME`) });
    }
  }
  return (meta.format.chapters ?? []).map((c) => ({ start: c.timeScale ? c.start / c.timeScale : c.start, title: c.title }));
}

/** Every rendition as served, saved in `dir`; fails the test when a body's length is not the record's `bytes`. */
export async function downloadRenditions(e: Episode, dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  await Promise.all(
    e.renditions!.map(async (r) => {
      const res = await fetch(r.url);
      if (res.status !== 200) throw new Error(`GET ${r.url}: ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (bytes.length !== r.bytes) throw new Error(`${r.url}: ${bytes.length} bytes served, the record says ${r.bytes}`);
      const file = path.join(dir, `${r.id}-${path.basename(new URL(r.url).pathname)}`);
      writeFileSync(file, bytes);
      files.set(r.id, file);
    }),
  );
  return files;
}
