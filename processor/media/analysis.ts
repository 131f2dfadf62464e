/**
 * What the source is, measured in one decode (split in time over the cores
 * for long files, like the loudness measurement): integrated loudness, LRA and
 * true peak after DC removal (ebur128=peak=true), and with astats the
 * per-channel level, peak, DC offset and flatness (clipping), the full-band
 * level and its quietest 400 ms window, and the same for the band below 60 Hz
 * (rumble and mains hum persist through a speaker's pauses; speech does not).
 * The mastering plan (processor/stages/normalize.ts) decides from these.
 */
import { inParts, type SourceLoudness } from "./loudness.ts";
import type { Slots } from "./slots.ts";
import { runFfmpeg, type MediaTools } from "./tools.ts";

export interface ChannelStats {
  rmsDb: number;
  peakDb: number;
  dcOffset: number;
  /** astats' flat factor: long runs at the peak value, i.e. clipping (0 when clean). */
  flatFactor: number;
}

/** The source's loudness (integrated, true peak, LRA, its blocks; see loudness.ts' inParts) and what astats found. */
export interface SourceAnalysis extends SourceLoudness {
  channels: ChannelStats[];
  /** Full band after DC removal: mean level and the quietest 400 ms window, dBFS. */
  fullRmsDb: number;
  fullTroughDb: number;
  /** Below 60 Hz after DC removal: mean level and quietest 400 ms window, dBFS. */
  lowRmsDb: number;
  lowTroughDb: number;
}

const GRAPH =
  "[0:a:0]astats@raw=length=0.4:measure_perchannel=DC_offset+RMS_level+Peak_level+Flat_factor:measure_overall=none," +
  // DC removed before anything is measured: it is removed before anything is encoded.
  "highpass=f=10:p=1,asplit[full][low];" +
  "[full]astats@full=length=0.4:measure_perchannel=none:measure_overall=RMS_level+RMS_trough,ebur128=peak=true:framelog=info[f];" +
  "[low]lowpass=f=60,lowpass=f=60,astats@low=length=0.4:measure_perchannel=none:measure_overall=RMS_level+RMS_trough[l]";

interface PartStats {
  channels: ChannelStats[];
  fullRmsDb: number;
  fullTroughDb: number;
  lowRmsDb: number;
  lowTroughDb: number;
  seconds: number;
}

const dbValue = (v: string) => (v === "-inf" ? -Infinity : v === "inf" ? Infinity : Number(v));

/** Collects the three astats instances' end-of-stream reports. */
function astatsCollector() {
  const stats: PartStats = {
    channels: [],
    fullRmsDb: -Infinity,
    fullTroughDb: -Infinity,
    lowRmsDb: -Infinity,
    lowTroughDb: -Infinity,
    seconds: 0,
  };
  const line = /^\[astats@(raw|full|low) @ [^\]]+\] (.+)$/;
  return {
    stats,
    onLine(l: string): boolean {
      const m = line.exec(l);
      if (!m) return false;
      const [, which, text] = m;
      const kv = /^([^:]+):\s*(\S+)/.exec(text!);
      if (which === "raw") {
        if (/^Channel: \d+/.test(text!)) stats.channels.push({ rmsDb: -Infinity, peakDb: -Infinity, dcOffset: 0, flatFactor: 0 });
        const ch = stats.channels[stats.channels.length - 1];
        if (!ch || !kv) return true;
        if (kv[1] === "RMS level dB") ch.rmsDb = dbValue(kv[2]!);
        else if (kv[1] === "Peak level dB") ch.peakDb = dbValue(kv[2]!);
        else if (kv[1] === "DC offset") ch.dcOffset = Number(kv[2]);
        else if (kv[1] === "Flat factor") ch.flatFactor = Number(kv[2]);
      } else if (kv) {
        const rms = kv[1] === "RMS level dB";
        const trough = kv[1] === "RMS trough dB";
        if (which === "full" && rms) stats.fullRmsDb = dbValue(kv[2]!);
        if (which === "full" && trough) stats.fullTroughDb = dbValue(kv[2]!);
        if (which === "low" && rms) stats.lowRmsDb = dbValue(kv[2]!);
        if (which === "low" && trough) stats.lowTroughDb = dbValue(kv[2]!);
      }
      return true;
    },
  };
}

/** Energy mean of dB levels, weighted (parts of different lengths). */
function meanDb(values: { db: number; w: number }[]): number {
  let e = 0;
  let w = 0;
  for (const v of values) {
    if (Number.isFinite(v.db)) e += v.w * 10 ** (v.db / 10);
    w += v.w;
  }
  return w && e ? 10 * Math.log10(e / w) : -Infinity;
}

export async function analyseSource(
  tools: MediaTools,
  file: string,
  durationSeconds: number,
  slots: Slots,
  signal?: AbortSignal,
): Promise<SourceAnalysis> {
  const { loudness, results: stats } = await inParts(durationSeconds, slots, async (window, seconds, log) => {
    const astats = astatsCollector();
    astats.stats.seconds = seconds;
    await runFfmpeg(
      tools,
      [
        "-nostdin",
        "-hide_banner",
        "-nostats",
        ...window,
        "-i",
        file,
        "-filter_complex",
        GRAPH,
        "-map",
        "[f]",
        "-f",
        "null",
        "-",
        "-map",
        "[l]",
        "-f",
        "null",
        "-",
      ],
      { signal, onStderrLine: (l) => astats.onLine(l) || log.onLine(l) },
    );
    return astats.stats;
  });
  const w = (s: PartStats) => Math.max(s.seconds, 1e-3);
  const channelCount = Math.max(...stats.map((s) => s.channels.length));
  const channels: ChannelStats[] = Array.from({ length: channelCount }, (_, c) => ({
    rmsDb: meanDb(stats.map((s) => ({ db: s.channels[c]?.rmsDb ?? -Infinity, w: w(s) }))),
    peakDb: Math.max(...stats.map((s) => s.channels[c]?.peakDb ?? -Infinity)),
    dcOffset: stats.reduce((a, s) => a + (s.channels[c]?.dcOffset ?? 0) * w(s), 0) / stats.reduce((a, s) => a + w(s), 0),
    flatFactor: Math.max(...stats.map((s) => s.channels[c]?.flatFactor ?? 0)),
  }));
  return {
    ...loudness,
    channels,
    fullRmsDb: meanDb(stats.map((s) => ({ db: s.fullRmsDb, w: w(s) }))),
    fullTroughDb: Math.min(...stats.map((s) => s.fullTroughDb)),
    lowRmsDb: meanDb(stats.map((s) => ({ db: s.lowRmsDb, w: w(s) }))),
    lowTroughDb: Math.min(...stats.map((s) => s.lowTroughDb)),
  };
}
