/**
 * Integrated loudness and true peak of a file with ffmpeg's `ebur128=peak=true`
 * (ITU-R BS.1770 / EBU R128). Used once on the source and once on every
 * rendition: the check is independent of the encoder that made the file.
 * loudnorm's measuring pass is never used: it is ~6x slower (it runs at 192 kHz).
 */
import { runTool, type MediaTools } from "./tools.ts";

export interface LoudnessMeasurement {
  integratedLufs: number;
  truePeakDbtp: number;
  loudnessRangeLu: number;
}

/** Parses the summary ebur128 prints when the stream ends. */
export function parseEbur128Summary(lines: string[]): LoudnessMeasurement {
  const start = lines.findLastIndex((l) => /Summary:/.test(l));
  const summary = start >= 0 ? lines.slice(start) : [];
  const num = (section: RegExp, field: RegExp): number => {
    const s = summary.findIndex((l) => section.test(l));
    if (s < 0) throw new Error("ebur128 summary missing");
    for (const l of summary.slice(s + 1)) {
      const m = field.exec(l);
      if (m) return m[1] === "-inf" ? -Infinity : Number(m[1]);
    }
    throw new Error("ebur128 summary incomplete");
  };
  return {
    integratedLufs: num(/Integrated loudness:/, /^\s*I:\s*(-?[\d.]+|-inf)\s*LUFS/),
    truePeakDbtp: num(/True peak:/, /^\s*Peak:\s*(-?[\d.]+|-inf)\s*dBFS/),
    loudnessRangeLu: num(/Loudness range:/, /^\s*LRA:\s*(-?[\d.]+|-inf)\s*LU/),
  };
}

export async function measureLoudness(tools: MediaTools, file: string, signal?: AbortSignal): Promise<LoudnessMeasurement> {
  const summary: string[] = [];
  let inSummary = false;
  await runTool(
    tools.ffmpeg,
    ["-nostdin", "-hide_banner", "-nostats", "-i", file, "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"],
    {
      signal,
      // Keep only the summary block (per-frame lines are at verbose level and not printed).
      onStderrLine: (line) => {
        if (/Summary:/.test(line)) {
          inSummary = true;
          summary.length = 0;
        }
        if (inSummary && summary.length < 40) summary.push(line);
      },
    },
  );
  return parseEbur128Summary(summary);
}
