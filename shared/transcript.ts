/**
 * Transcripts creators supply (podcast:transcript): WebVTT or SRT, checked
 * before anything is stored so players never get a file they cannot read.
 * The checks are structural (header, cue timings in order, text present);
 * what the cues say is the creator's.
 */
export type TranscriptFormat = "vtt" | "srt";

export const TRANSCRIPT_TYPES: Record<TranscriptFormat, "text/vtt" | "application/srt"> = { vtt: "text/vtt", srt: "application/srt" };
export const TRANSCRIPT_FILES: Record<TranscriptFormat, string> = { vtt: "transcript.vtt", srt: "transcript.srt" };
export const MAX_TRANSCRIPT_BYTES = 5 * 1024 * 1024;

export class TranscriptError extends Error {}

/** The format a Content-Type names, or undefined. */
export function transcriptFormat(contentType: string | null | undefined): TranscriptFormat | undefined {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "text/vtt") return "vtt";
  if (type === "application/srt" || type === "application/x-subrip" || type === "text/srt") return "srt";
  return undefined;
}

const VTT_TIME = String.raw`(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})`;
const SRT_TIME = String.raw`(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})`;

function seconds(m: RegExpExecArray, at: number): number {
  const [h, min, s, ms] = [m[at], m[at + 1], m[at + 2], m[at + 3]].map((x) => Number(x ?? 0));
  return h! * 3600 + min! * 60 + s! + ms! / 1000;
}

/** Checks a transcript; returns its cue count, or throws TranscriptError naming the line. */
export function validateTranscript(text: string, format: TranscriptFormat): { cues: number } {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  const timing = new RegExp(`^${format === "vtt" ? VTT_TIME : SRT_TIME}\\s+-->\\s+${format === "vtt" ? VTT_TIME : SRT_TIME}(?:\\s.*)?$`);
  const fail = (line: number, why: string): never => {
    throw new TranscriptError(`transcript (${format === "vtt" ? "WebVTT" : "SRT"}) line ${line}: ${why}`);
  };
  let i = 0;
  if (format === "vtt") {
    if (!/^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? "")) fail(1, 'must start with "WEBVTT"');
    i = 1;
  }
  let cues = 0;
  let lastStart = -1;
  while (i < lines.length) {
    if (lines[i]!.trim() === "") {
      i++;
      continue;
    }
    // A block: optional identifier (VTT) / required index (SRT), then the timing line, then text lines.
    const blockStart = i;
    if (format === "vtt" && /^(NOTE|STYLE|REGION)(\s|$)/.test(lines[i]!)) {
      while (i < lines.length && lines[i]!.trim() !== "") i++;
      continue;
    }
    // A line before the timing is the cue's identifier (VTT, optional) or number (SRT, required).
    if (!lines[i]!.includes("-->") && (lines[i + 1] ?? "").includes("-->")) {
      if (format === "srt" && !/^\d+$/.test(lines[i]!.trim())) fail(i + 1, "expected a cue number");
      i++;
    }
    const m = timing.exec((lines[i] ?? "").trim());
    if (!m)
      fail(
        i + 1,
        format === "vtt"
          ? "expected a cue timing such as 00:01.000 --> 00:04.500"
          : "expected a cue timing such as 00:00:01,000 --> 00:00:04,500",
      );
    const start = seconds(m!, 1);
    const end = seconds(m!, 5);
    if (end < start) fail(i + 1, "the cue ends before it starts");
    if (start < lastStart) fail(i + 1, "cues must be in time order");
    lastStart = start;
    i++;
    if (i >= lines.length || lines[i]!.trim() === "") fail(blockStart + 1, "the cue has no text");
    while (i < lines.length && lines[i]!.trim() !== "") i++;
    cues++;
  }
  if (cues === 0) fail(1, "no cues found");
  return { cues };
}
