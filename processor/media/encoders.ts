/**
 * The encoder settings of every rendition, in one place: the processor, the
 * bench's article approach and its floor all encode with exactly these.
 */
import type { RenditionSpec } from "../../shared/renditions.ts";

export function codecArgs(s: RenditionSpec): string[] {
  const b = ["-b:a", `${s.bitrateKbps}k`, "-ar", String(s.sampleRate)];
  switch (s.codec) {
    case "mp3":
      return ["-c:a", "libmp3lame", ...b, "-id3v2_version", "4", "-write_id3v1", "0"];
    case "aac":
      // +faststart: the index up front, so players start before the whole file arrives.
      return ["-c:a", "aac", ...b, "-movflags", "+faststart"];
    case "opus":
      return ["-c:a", "libopus", ...b, "-application", "audio", "-f", "opus"];
  }
}

/**
 * The band ffmpeg's AAC encoder keeps at a bitrate (libavcodec/psymodel.h,
 * AAC_CUTOFF_FROM_BITRATE): it discards everything above, which is 9.5 kHz at
 * 64 kb/s stereo and 16 kHz at 128 kb/s.
 */
export function aacCutoffHz(bitrate: number, channels: number, sampleRate: number): number {
  const perChannel = Math.floor(bitrate / channels);
  const byRate = Math.min(
    Math.max(Math.floor(perChannel / 5), Math.floor((perChannel * 15) / 32) - 5500),
    3000 + Math.floor(perChannel / 4),
    12000 + Math.floor(perChannel / 16),
  );
  return Math.min(byRate, 22000, Math.floor(sampleRate / 2));
}
