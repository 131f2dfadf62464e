/**
 * Test and demo audio, generated with ffmpeg at run time (nothing binary is
 * committed). Speech comes from espeak-ng when it is installed; otherwise a
 * speech-like signal (tones with syllable-rate gating) stands in.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

const run = promisify(execFile);

async function has(command: string): Promise<boolean> {
  try {
    await run(command, ["--version"]);
    return true;
  } catch {
    return false;
  }
}

const SCRIPT =
  "Welcome back to the show. Today we follow one episode from a creator's microphone, " +
  "through a resumable upload at the edge, into a queue, through the encoders, and out " +
  "to every podcast app, with every step visible in one trace. ";

export interface SpeechOptions {
  seconds: number;
  /** Output sample rate (default 44100). */
  sampleRate?: number;
  channels?: 1 | 2;
  /** Gain applied to the speech, dB: negative for a quiet source (default -8). */
  gainDb?: number;
  /** Output codec args; default 16-bit PCM WAV. */
  codecArgs?: string[];
}

/** Writes `seconds` of speech-like audio to `out` (format from its extension). */
export async function generateSpeech(out: string, opts: SpeechOptions): Promise<void> {
  const { seconds, sampleRate = 44100, channels = 2, gainDb = -8, codecArgs = [] } = opts;
  const tmp = await mkdtemp(path.join(tmpdir(), "speech-"));
  try {
    let input: string[];
    if (await has("espeak-ng")) {
      const voice = path.join(tmp, "voice.wav");
      await run("espeak-ng", ["-s", "165", "-w", voice, SCRIPT.repeat(2)]);
      input = ["-stream_loop", "-1", "-i", voice];
    } else {
      // Syllables at ~4 Hz over a vowel-like tone pair.
      input = ["-f", "lavfi", "-i", `aevalsrc='(0.6*sin(2*PI*180*t)+0.3*sin(2*PI*720*t))*gt(sin(2*PI*4*t),0)':s=${sampleRate}`];
    }
    await run("ffmpeg", [
      "-v",
      "error",
      "-y",
      ...input,
      "-f",
      "lavfi",
      "-i",
      `anoisesrc=color=pink:amplitude=0.003:sample_rate=${sampleRate}`,
      "-filter_complex",
      `[0:a]aresample=${sampleRate},volume=${gainDb}dB[s];[s][1:a]amix=inputs=2:duration=first:normalize=0[m]`,
      "-map",
      "[m]",
      "-t",
      String(seconds),
      "-ac",
      String(channels),
      "-ar",
      String(sampleRate),
      ...codecArgs,
      out,
    ]);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
