/**
 * Stage 4, audio.metadata: tags and chapters were written by the transcode
 * ffmpeg itself (ID3v2.4 title/artist/album + CHAP/CTOC, MP4 metadata and
 * chapter track, Ogg comments), so nothing is re-encoded or rewritten here.
 * This stage reads every rendition back with music-metadata (what players
 * will see) and writes the Podcasting 2.0 JSON chapters file.
 */
import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseFile } from "music-metadata";
import type { Chapter } from "../../shared/episode.ts";
import { renderChaptersJson } from "../../shared/feed/chapters.ts";
import { DEFAULT_RENDITION } from "../../shared/renditions.ts";
import { ATTR } from "../../shared/telemetry.ts";
import { writeId3Comment } from "../media/id3.ts";
import type { StageContext } from "./context.ts";
import type { EncodedRendition } from "./transcode.ts";

export interface MetadataInput {
  renditions: EncodedRendition[];
  chapters: Chapter[];
  /** The episode's description, for the MP3s' ID3 COMM frame (ffmpeg 5.1 writes it as TXXX). */
  comment?: string;
}

export interface DescribedRendition extends EncodedRendition {
  /** As read back from the file. */
  durationSeconds: number;
  sampleRate: number;
  channels: number;
  bitrate: number;
  container: string;
  chapterCount: number;
  title?: string;
  hasCover: boolean;
}

export interface MetadataOutput {
  renditions: DescribedRendition[];
  /** Podcasting 2.0 JSON chapters (application/json+chapters), when the source has chapters. */
  chaptersJson?: { path: string; count: number };
}

export const CHAPTERS_FILE = "chapters.json";

export async function metadata(input: MetadataInput, ctx: StageContext): Promise<MetadataOutput> {
  const renditions: DescribedRendition[] = [];
  for (const encoded of input.renditions) {
    let r = encoded;
    if (input.comment && r.spec.codec === "mp3") {
      await writeId3Comment(r.path, input.comment);
      r = { ...r, bytes: (await stat(r.path)).size };
    }
    // Ogg has no duration header: music-metadata reads it from the last page only when asked.
    const meta = await parseFile(r.path, { includeChapters: true, duration: r.spec.codec === "opus" });
    renditions.push({
      ...r,
      durationSeconds: meta.format.duration ?? 0,
      sampleRate: meta.format.sampleRate ?? r.spec.sampleRate,
      channels: meta.format.numberOfChannels ?? 0,
      bitrate: Math.round(meta.format.bitrate ?? r.spec.bitrateKbps * 1000),
      container: meta.format.container ?? r.spec.codec,
      chapterCount: meta.format.chapters?.length ?? 0,
      title: meta.common.title,
      hasCover: (meta.common.picture?.length ?? 0) > 0,
    });
  }
  let chaptersJson: MetadataOutput["chaptersJson"];
  if (input.chapters.length) {
    const file = path.join(ctx.jobDir, CHAPTERS_FILE);
    await writeFile(file, renderChaptersJson(input.chapters));
    chaptersJson = { path: file, count: input.chapters.length };
  }
  const main = renditions.find((r) => r.spec.id === DEFAULT_RENDITION) ?? renditions[0]!;
  ctx.span.setAttributes({
    [ATTR.renditionId]: main.spec.id,
    [ATTR.format]: main.container,
    [ATTR.durationSeconds]: main.durationSeconds,
    [ATTR.sampleRate]: main.sampleRate,
    [ATTR.channels]: main.channels,
    [ATTR.bitrate]: main.bitrate,
    [ATTR.chapterCount]: main.chapterCount,
    [ATTR.hasChapters]: input.chapters.length > 0,
    "audio.chapters.json_count": chaptersJson?.count ?? 0,
    "audio.artwork.embedded": main.hasCover,
  });
  return { renditions, chaptersJson };
}
