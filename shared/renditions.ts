/**
 * The renditions every episode is published in. One list drives the
 * processor's encoders, the feed's enclosures and the edge's Content-Type.
 */
export type RenditionId = "mp3_128k" | "mp3_64k" | "aac_128k" | "aac_64k" | "opus_48k";

export interface RenditionSpec {
  id: RenditionId;
  codec: "mp3" | "aac" | "opus";
  bitrateKbps: number;
  /** Delivery sample rate: never the 192 kHz loudnorm would leave behind. */
  sampleRate: 44100 | 48000;
  /** File name of the rendition under the episode's public prefix. */
  file: string;
  mimeType: string;
  /** RFC 6381 codecs string, for podcast:alternateEnclosure. */
  codecs: string;
}

export const RENDITIONS: readonly RenditionSpec[] = [
  { id: "mp3_128k", codec: "mp3", bitrateKbps: 128, sampleRate: 44100, file: "audio-128k.mp3", mimeType: "audio/mpeg", codecs: "mp3" },
  { id: "mp3_64k", codec: "mp3", bitrateKbps: 64, sampleRate: 44100, file: "audio-64k.mp3", mimeType: "audio/mpeg", codecs: "mp3" },
  { id: "aac_128k", codec: "aac", bitrateKbps: 128, sampleRate: 44100, file: "audio-128k.m4a", mimeType: "audio/mp4", codecs: "mp4a.40.2" },
  { id: "aac_64k", codec: "aac", bitrateKbps: 64, sampleRate: 44100, file: "audio-64k.m4a", mimeType: "audio/mp4", codecs: "mp4a.40.2" },
  { id: "opus_48k", codec: "opus", bitrateKbps: 48, sampleRate: 48000, file: "audio-48k.opus", mimeType: "audio/ogg", codecs: "opus" },
];

/** The rendition podcast apps get as the RSS <enclosure>: the one every app plays. */
export const DEFAULT_RENDITION: RenditionId = "mp3_128k";

export function renditionSpec(id: RenditionId): RenditionSpec {
  const spec = RENDITIONS.find((r) => r.id === id);
  if (!spec) throw new Error(`unknown rendition ${id}`);
  return spec;
}
