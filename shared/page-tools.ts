/**
 * ffmpeg.wasm's core (a ~31 MB .wasm and its JS loader), which the upload
 * page runs in the creator's browser to check a file before sending it. Too
 * big for the Worker's bundle, so it lives in R2 under public/ (keyed by its
 * version: a new core never mixes with an old loader) and the edge serves it
 * at /upload/ffmpeg-core/{file}. The local stack copies it there at start-up;
 * in production `node local/publish-page-tools.ts` (README) does.
 */

/** @ffmpeg/core's version in package.json: the key changes with it (test/cli checks they agree). */
export const FFMPEG_CORE_VERSION = "0.12.10";

/** The files of the single-threaded UMD build (a classic worker loads it with importScripts). */
export const FFMPEG_CORE_FILES = {
  "ffmpeg-core.js": "text/javascript; charset=utf-8",
  "ffmpeg-core.wasm": "application/wasm",
} as const;

export type FfmpegCoreFile = keyof typeof FFMPEG_CORE_FILES;

/** `public/_app/...`: podcast ids never start with "_", so this cannot meet a show's files. */
export function ffmpegCoreKey(file: FfmpegCoreFile): string {
  return `public/_app/ffmpeg-core/${FFMPEG_CORE_VERSION}/${file}`;
}
