/**
 * The bench's source: N minutes of speech-like stereo 44.1 kHz 16-bit WAV,
 * well below podcast loudness (~-27 LUFS, peaks ~16 dB above it, like a raw
 * interview recording), so every approach has real gain and limiting to do.
 * Speech is espeak-ng reading seeded pseudo-random sentences in two voices
 * (host and guest), placed slightly apart in the stereo image, over a pink-noise
 * room tone. Cached under bench/.cache by its parameters: an hour takes ~30 s to make.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

const WORDS = (
  "the a podcast loudness audio episode codec guest host today we talk about peak limiting true apps expect " +
  "our has built pipelines for years strong opinions and listeners microphone studio recording interview " +
  "question answer story because really think that this is interesting when you know what I mean so let us " +
  "start with feed upload network creator edge queue trace waveform chapter summer winter music people"
).split(" ");

/** Mulberry32: a tiny seeded generator, so the same parameters always give the same file. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function paragraphs(words: number, rnd: () => number): string {
  const out: string[] = [];
  let n = 0;
  while (n < words) {
    const len = 5 + Math.floor(rnd() * 18);
    const s = Array.from({ length: len }, () => WORDS[Math.floor(rnd() * WORDS.length)]!).join(" ");
    out.push(s.charAt(0).toUpperCase() + s.slice(1) + [".", ".", "?", "!"][Math.floor(rnd() * 4)]);
    n += len;
  }
  return out.join(" ");
}

export const SPEECH_VERSION = 1;

export function speechPath(cacheDir: string, minutes: number): string {
  return path.join(cacheDir, `speech-v${SPEECH_VERSION}-${minutes}min-44100-stereo.wav`);
}

export async function speechWav(cacheDir: string, minutes: number): Promise<string> {
  const out = speechPath(cacheDir, minutes);
  if (existsSync(out)) return out;
  await mkdir(cacheDir, { recursive: true });
  // Generated WAVs (~635 MB per hour) must never be committed: the cache ignores itself.
  await writeFile(path.join(cacheDir, ".gitignore"), "*\n");
  const tmp = await mkdtemp(path.join(cacheDir, "gen-"));
  try {
    const seconds = minutes * 60;
    const rnd = random(minutes);
    // ~165 words per minute; a little extra so the loop below rarely repeats.
    const words = Math.ceil(minutes * 90) + 200;
    const host = path.join(tmp, "host.wav");
    const guest = path.join(tmp, "guest.wav");
    await writeFile(path.join(tmp, "host.txt"), paragraphs(words, rnd));
    await writeFile(path.join(tmp, "guest.txt"), paragraphs(words, rnd));
    await run("espeak-ng", ["-v", "en-us", "-s", "165", "-p", "40", "-f", path.join(tmp, "host.txt"), "-w", host]);
    await run("espeak-ng", ["-v", "en-gb", "-s", "175", "-p", "65", "-f", path.join(tmp, "guest.txt"), "-w", guest]);
    // Turns of ~20 s alternate between the voices; the guest sits a little right and 3 dB quieter.
    const turn = 20;
    const gate = (on: string) => `volume='if(${on},1,0)':eval=frame`;
    const partial = path.join(tmp, "speech.wav");
    await run(
      "ffmpeg",
      [
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-stream_loop",
        "-1",
        "-i",
        host,
        "-stream_loop",
        "-1",
        "-i",
        guest,
        "-f",
        "lavfi",
        "-i",
        `anoisesrc=color=pink:amplitude=0.002:sample_rate=44100:seed=${minutes}`,
        "-filter_complex",
        [
          `[0:a]aresample=44100,${gate(`lt(mod(t,${2 * turn}),${turn})`)},pan=stereo|c0=1.0*c0|c1=0.8*c0[h]`,
          `[1:a]aresample=44100,${gate(`gte(mod(t,${2 * turn}),${turn})`)},volume=-3dB,pan=stereo|c0=0.7*c0|c1=1.0*c0[g]`,
          `[h][g][2:a]amix=inputs=3:normalize=0:duration=shortest,volume=-5dB[m]`,
        ].join(";"),
        "-map",
        "[m]",
        "-t",
        String(seconds),
        "-ar",
        "44100",
        "-c:a",
        "pcm_s16le",
        partial,
      ],
      { maxBuffer: 1 << 20 },
    );
    await rename(partial, out);
    return out;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
