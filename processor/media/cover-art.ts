/**
 * The cover art embedded in every rendition (ID3 APIC, MP4 covr): the upload's
 * own picture if it has one, else the podcast's artwork. An upload's picture
 * larger than podcast apps show (1400 px, or 1 MB) is scaled down to a
 * 1400 px JPEG: a 10 MB picture copied into a 64 kb/s MP3 would make the
 * picture most of what listeners download. A failed artwork fetch is
 * recorded on the span, never fatal.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import type { Span } from "@opentelemetry/api";
import { fetchArtwork } from "./artwork.ts";
import { runFfmpeg, type MediaTools } from "./tools.ts";

export type CoverArt = { from: "upload" | "podcast"; path: string };

export const COVER_MAX_PIXELS = 1400;
export const COVER_MAX_BYTES = 1024 * 1024;

export interface CoverSource {
  sourcePath: string;
  coverStreamIndex?: number;
  coverPixels?: number;
}

export async function chooseCoverArt(
  source: CoverSource,
  artworkUrl: string | undefined,
  jobDir: string,
  tools: MediaTools,
  span: Span,
  signal?: AbortSignal,
): Promise<CoverArt | undefined> {
  let cover: CoverArt | undefined;
  if (source.coverStreamIndex !== undefined) {
    cover = { from: "upload", path: await uploadCover(source, jobDir, tools, span, signal) };
  } else if (artworkUrl) {
    const art = await fetchArtwork(artworkUrl, jobDir, { signal });
    if ("error" in art) {
      span.setAttribute("audio.artwork.error", art.error);
      span.addEvent("artwork unavailable", { "audio.artwork.error": art.error });
    } else {
      cover = { from: "podcast", path: art.path };
      span.setAttributes({ "audio.artwork.bytes": art.bytes, "audio.artwork.mime_type": art.mimeType });
    }
  }
  span.setAttribute("audio.artwork.source", cover?.from ?? "none");
  return cover;
}

/** The upload's picture as a file: copied as it is when small, else scaled to a 1400 px JPEG. */
async function uploadCover(source: CoverSource, jobDir: string, tools: MediaTools, span: Span, signal?: AbortSignal): Promise<string> {
  const map = `0:${source.coverStreamIndex}`;
  const original = path.join(jobDir, "upload-cover");
  await runFfmpeg(tools, ["-nostdin", "-v", "error", "-y", "-i", source.sourcePath, "-map", map, "-c", "copy", "-f", "image2", original], {
    signal,
  });
  const bytes = (await stat(original)).size;
  const tooBig = bytes > COVER_MAX_BYTES || (source.coverPixels ?? 0) > COVER_MAX_PIXELS;
  span.setAttributes({ "audio.artwork.upload_bytes": bytes, "audio.artwork.scaled": tooBig });
  if (!tooBig) return original;
  const scaled = path.join(jobDir, "upload-cover.jpg");
  const fit = `scale=w='min(${COVER_MAX_PIXELS},iw)':h='min(${COVER_MAX_PIXELS},ih)':force_original_aspect_ratio=decrease`;
  await runFfmpeg(
    tools,
    [
      "-nostdin",
      "-v",
      "error",
      "-y",
      "-i",
      original,
      "-vf",
      `${fit},format=yuvj420p`,
      "-frames:v",
      "1",
      "-q:v",
      "3",
      "-f",
      "image2",
      "-c:v",
      "mjpeg",
      scaled,
    ],
    { signal },
  );
  span.setAttribute("audio.artwork.bytes", (await stat(scaled)).size);
  return scaled;
}
