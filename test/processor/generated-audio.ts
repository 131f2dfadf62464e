/**
 * Audio for the processor tests, generated at test time with real ffmpeg and
 * espeak-ng (nothing binary is committed). Short clips keep the suite fast.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";

export const ffmpeg = (args: string[]) =>
  execFileSync("ffmpeg", ["-nostdin", "-hide_banner", "-v", "error", "-y", ...args], { stdio: ["ignore", "ignore", "pipe"] });

const SCRIPT =
  "Welcome back to the show. Today we talk about loudness, true peak limiting, and why podcast apps " +
  "expect minus sixteen LUFS. Our guest has built audio pipelines for years, and she has strong opinions about codecs.";

/** ~12 s of synthetic speech, stereo 44.1 kHz, at `gainDb` relative to espeak's level. */
export function speechWav(dir: string, name: string, gainDb: number): string {
  const raw = path.join(dir, `${name}-raw.wav`);
  const out = path.join(dir, `${name}.wav`);
  execFileSync("espeak-ng", ["-w", raw, SCRIPT]);
  ffmpeg(["-i", raw, "-af", `aformat=channel_layouts=stereo,volume=${gainDb}dB`, "-ar", "44100", "-c:a", "pcm_s16le", out]);
  return out;
}

/**
 * Quiet speech at 48 kHz (~13 s, or the first `seconds`) with sharp clicks (0.4 ms of 3 kHz at -1 dBFS every 1.3 s): the
 * gain to -16 LUFS would put those peaks ~11 dB over full scale, so every rendition is limited.
 */
export function clickySpeechWav(dir: string, seconds?: number): string {
  const speech = speechWav(dir, "clicky-src", -12);
  const out = path.join(dir, `clicky-speech${seconds ? `-${seconds}s` : ""}.wav`);
  ffmpeg([
    "-i",
    speech,
    ...(seconds ? ["-t", String(seconds)] : []),
    "-f",
    "lavfi",
    "-i",
    "aevalsrc='if(lt(mod(t,1.3),0.0004),0.9*sin(2*PI*3000*t),0)':s=48000:d=13",
    "-filter_complex",
    "[0]aresample=48000[s];[1]aformat=channel_layouts=stereo[c];[s][c]amix=inputs=2:normalize=0:duration=first",
    "-ar",
    "48000",
    "-c:a",
    "pcm_s24le",
    out,
  ]);
  return out;
}

/** A quiet two-tone signal (pure tones: no encoder-friendly noise floor). */
export function toneWav(dir: string, seconds = 10): string {
  const out = path.join(dir, "tone.wav");
  ffmpeg([
    "-f",
    "lavfi",
    "-i",
    `sine=f=220:d=${seconds}`,
    "-f",
    "lavfi",
    "-i",
    `sine=f=3000:d=${seconds}`,
    "-filter_complex",
    "[0][1]amix=inputs=2:weights=1 0.3,volume=-20dB,aformat=channel_layouts=stereo",
    "-ar",
    "44100",
    out,
  ]);
  return out;
}

/** An MP3 with ID3 chapters (CHAP + CTOC), from an ffmetadata file. */
export function mp3WithChapters(dir: string, source: string): { path: string; chapters: { start: number; title: string }[] } {
  const chapters = [
    { start: 0, title: "Intro" },
    { start: 4.5, title: "The guest" },
    { start: 8, title: "Codecs; opinions = many" },
  ];
  const meta = path.join(dir, "chapters.ffmeta");
  const lines = [";FFMETADATA1", "title=Source title"];
  chapters.forEach((c, i) => {
    const end = chapters[i + 1]?.start ?? 12;
    lines.push(
      "[CHAPTER]",
      "TIMEBASE=1/1000",
      `START=${c.start * 1000}`,
      `END=${end * 1000}`,
      `title=${c.title.replace(/[=;]/g, (m) => `\\${m}`)}`,
    );
  });
  writeFileSync(meta, `${lines.join("\n")}\n`);
  const out = path.join(dir, "with-chapters.mp3");
  ffmpeg([
    "-i",
    source,
    "-f",
    "ffmetadata",
    "-i",
    meta,
    "-map",
    "0:a",
    "-map_metadata",
    "1",
    "-map_chapters",
    "1",
    "-c:a",
    "libmp3lame",
    "-b:a",
    "192k",
    "-id3v2_version",
    "4",
    out,
  ]);
  return { path: out, chapters };
}

export interface Measured {
  integratedLufs: number;
  truePeakDbtp: number;
}

/** The test's own loudness measurement (ebur128, true peak), independent of the processor's code. */
export function measure(file: string): Measured {
  const r = spawnSync("ffmpeg", ["-nostdin", "-hide_banner", "-nostats", "-i", file, "-af", "ebur128=peak=true", "-f", "null", "-"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`ebur128 failed on ${file}: ${r.stderr.slice(-500)}`);
  const summary = r.stderr.slice(r.stderr.lastIndexOf("Summary:"));
  const i = /I:\s+(-?[\d.]+) LUFS/.exec(summary);
  const p = /Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary);
  if (!i || !p) throw new Error(`no ebur128 summary for ${file}`);
  return { integratedLufs: Number(i[1]), truePeakDbtp: Number(p[1]) };
}

export function probeStream(file: string): { codec: string; sampleRate: number; channels: number; duration: number } {
  const out = execFileSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-select_streams",
      "a:0",
      "-show_entries",
      "stream=codec_name,sample_rate,channels:format=duration",
      "-of",
      "json",
      file,
    ],
    { encoding: "utf8" },
  );
  const j = JSON.parse(out) as { streams: { codec_name: string; sample_rate: string; channels: number }[]; format: { duration: string } };
  return {
    codec: j.streams[0]!.codec_name,
    sampleRate: Number(j.streams[0]!.sample_rate),
    channels: j.streams[0]!.channels,
    duration: Number(j.format.duration),
  };
}
