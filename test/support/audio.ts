/**
 * Audio files generated with ffmpeg at test time (nothing binary is committed),
 * written to a temporary folder. Speech-like noise compresses badly, so a
 * given duration yields a predictable size.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type AudioFormat = "wav" | "flac" | "mp3" | "mp3-bare" | "ogg" | "m4a";

export interface AudioFile {
  path: string;
  size: number;
  sha256: string;
}

/** Output options per format; "mp3-bare" has no ID3 tag, so it starts with an MPEG frame header. */
const ENCODE: Record<AudioFormat, { ext: string; args: string[] }> = {
  wav: { ext: "wav", args: ["-c:a", "pcm_s16le", "-f", "wav"] },
  flac: { ext: "flac", args: ["-c:a", "flac", "-f", "flac"] },
  mp3: { ext: "mp3", args: ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"] },
  "mp3-bare": { ext: "mp3", args: ["-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "0", "-write_xing", "0", "-f", "mp3"] },
  ogg: { ext: "ogg", args: ["-c:a", "libopus", "-b:a", "64k", "-ar", "48000", "-f", "ogg"] },
  m4a: { ext: "m4a", args: ["-c:a", "aac", "-b:a", "96k", "-f", "ipod"] },
};

export class AudioDir {
  readonly dir: string;
  #count = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(): Promise<AudioDir> {
    return new AudioDir(await mkdtemp(path.join(tmpdir(), "podcast-audio-")));
  }

  /**
   * A stereo 44.1 kHz file of pink noise under a tone. As WAV (16-bit) one
   * second is 176,400 bytes, so `wavSecondsFor(bytes)` picks a duration for a size.
   */
  async generate(format: AudioFormat, seconds: number, opts: { sampleRate?: number; channels?: number } = {}): Promise<AudioFile> {
    const { ext, args } = ENCODE[format];
    const file = path.join(this.dir, `audio-${++this.#count}.${ext}`);
    await run(
      "ffmpeg",
      [
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        `anoisesrc=color=pink:amplitude=0.2:duration=${seconds}:seed=${this.#count}`,
        "-f",
        "lavfi",
        "-i",
        `sine=frequency=220:duration=${seconds}`,
        "-filter_complex",
        "amix=inputs=2:duration=shortest",
        "-ar",
        String(opts.sampleRate ?? 44100),
        "-ac",
        String(opts.channels ?? 2),
        ...args,
        file,
      ],
      { maxBuffer: 1024 * 1024 },
    );
    return describe(file);
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Seconds of 16-bit stereo 44.1 kHz WAV that make about `bytes`. */
export function wavSecondsFor(bytes: number): number {
  return Math.ceil(bytes / (44100 * 2 * 2));
}

export async function describe(file: string): Promise<AudioFile> {
  const bytes = await readFile(file);
  return { path: file, size: (await stat(file)).size, sha256: createHash("sha256").update(bytes).digest("hex") };
}
