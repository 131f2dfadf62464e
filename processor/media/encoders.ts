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
