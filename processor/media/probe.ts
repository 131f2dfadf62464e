/** ffprobe's view of a file: container, streams and chapters. */
import { runTool, type MediaTools } from "./tools.ts";

export interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  sample_rate?: string;
  channels?: number;
  bit_rate?: string;
  duration?: string;
  /** Pictures (attached cover art). */
  width?: number;
  height?: number;
  disposition?: { attached_pic?: number };
}

export interface ProbeChapter {
  start_time: string;
  end_time?: string;
  tags?: { title?: string };
}

export interface Probe {
  streams: ProbeStream[];
  chapters: ProbeChapter[];
  format: { format_name?: string; duration?: string; bit_rate?: string; size?: string };
}

export async function probe(tools: MediaTools, file: string, signal?: AbortSignal): Promise<Probe> {
  const { stdout } = await runTool(tools.ffprobe, ["-v", "error", "-show_format", "-show_streams", "-show_chapters", "-of", "json", file], {
    signal,
    captureStdout: true,
  });
  const parsed = JSON.parse(stdout || "{}") as Partial<Probe>;
  return { streams: parsed.streams ?? [], chapters: parsed.chapters ?? [], format: parsed.format ?? {} };
}
