/**
 * The corpus: realistic uploads of the kinds creators really send, generated
 * at test time with espeak-ng (several voices) and ffmpeg (noise colours,
 * tones, transients). Each is as long as its quirk needs and no longer (8-16 s:
 * a few words, a pause or two, a few pops or claps), so the corpus costs a
 * couple of minutes. Levels spread over -40..-8 LUFS. Used by
 * test/processor/corpus-*.test.ts (each file generates only its own inputs)
 * and by the bench's corpus row (bench/processor/run.ts --corpus).
 *
 * The noise is seeded (anoisesrc seed=1): the same inputs every run, so a failure can be reproduced.
 * Unseeded, the claps input's AAC 64k missed the target in 2 of 13 runs (README "Loudness").
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ffmpeg } from "./generated-audio.ts";

const LINES = [
  "Welcome back to the show. Today we talk about loudness, true peak limiting, and why podcast apps expect minus sixteen LUFS.",
  "Our guest has built audio pipelines for years, and she has strong opinions about codecs, microphones and rooms.",
  "Let us start with the basics: what does a listener hear when an episode is too quiet on a noisy train?",
  "People reach for the volume, and then the next episode blasts them. That is why a target matters so much.",
];

/** Speech from one espeak-ng voice, mono 48 kHz float, `lines` of LINES joined. */
function voice(dir: string, name: string, v: string, text: string): string {
  const raw = path.join(dir, `${name}-espeak.wav`);
  const out = path.join(dir, `${name}-voice.wav`);
  execFileSync("espeak-ng", ["-v", v, "-w", raw, text]);
  ffmpeg(["-i", raw, "-ar", "48000", "-c:a", "pcm_f32le", out]);
  return out;
}

/** Integrated loudness of a file (ebur128), to set each input's level exactly. */
export function integratedLufs(file: string): number {
  const r = spawnSync("ffmpeg", ["-nostdin", "-hide_banner", "-nostats", "-i", file, "-af", "ebur128", "-f", "null", "-"], {
    encoding: "utf8",
  });
  return Number(/I:\s+(-?[\d.]+) LUFS/.exec(r.stderr.slice(r.stderr.lastIndexOf("Summary:")))?.[1] ?? NaN);
}

/** Re-levels a float master to `lufs` (a plain gain) and writes it with `outArgs`. */
function leveled(master: string, lufs: number, out: string, outArgs: string[], extraFilter = ""): string {
  const gain = lufs - integratedLufs(master);
  ffmpeg(["-i", master, "-af", `volume=${gain.toFixed(2)}dB${extraFilter ? `,${extraFilter}` : ""}`, ...outArgs, out]);
  return out;
}

export interface CorpusInput {
  name: string;
  /** What it is, as a creator would describe the upload. */
  description: string;
  file: string;
  /** Expected source facts and chain decisions (span attributes), checked by the corpus test. */
  expect: {
    channelsOut: 1 | 2;
    /** The dead-channel fix was applied. */
    deadChannel?: boolean;
    /** DC offset was removed. */
    dcRemoved?: boolean;
    /** Rumble/hum below speech was high-passed. */
    rumble?: boolean;
    /** The dynamics chain compressed (source PLR/LRA above what the target allows). */
    compressed?: boolean;
    /** Loud mastered input: only turned down, no compression. */
    turnedDown?: boolean;
    /** The leveller ran (voices at different levels). */
    levelled?: boolean;
    sourceSampleRate?: number;
    /** Cover art from the upload, scaled down. */
    coverScaled?: boolean;
  };
}

/** The voices and shared masters, made once per folder on first use. */
function sources(dir: string) {
  const made = new Map<string, string>();
  const once = (key: string, make: () => string) => {
    if (!made.has(key)) made.set(key, make());
    return made.get(key)!;
  };
  const f = (n: string) => path.join(dir, n);
  const d = () => once("d", () => voice(dir, "d", "en-us+f4", LINES[2]!));
  return {
    f,
    // Four voices, one or two lines each (~6-14 s).
    a: () => once("a", () => voice(dir, "a", "en-us", `${LINES[0]} ${LINES[3]}`)),
    b: () => once("b", () => voice(dir, "b", "en+f3", LINES[1]!)),
    c: () => once("c", () => voice(dir, "c", "en-gb+m3", LINES[0]!)),
    d,
    /** Phone-band speech (300-3400 Hz), 10 s: the phone MP3 and the mu-law call. */
    phone: () =>
      once("phone", () => {
        ffmpeg([
          "-i",
          d(),
          "-af",
          "highpass=f=300,lowpass=f=3400,apad=whole_dur=10,atrim=0:10",
          "-c:a",
          "pcm_f32le",
          f("phone-master.wav"),
        ]);
        return f("phone-master.wav");
      }),
  };
}
type Sources = ReturnType<typeof sources>;

/** Every corpus input by name: how it is made. */
const INPUTS: Record<string, (s: Sources) => CorpusInput> = {
  // Quiet mono USB-mic speech with plosive pops (low, loud thumps every 3.7 s): ~-34 LUFS, peaks ~25 dB above. 12 s: four pops.
  "quiet-mono-plosives": ({ a, f }) => {
    ffmpeg([
      "-i",
      a(),
      "-f",
      "lavfi",
      "-i",
      "aevalsrc='if(lt(mod(t,3.7),0.025),0.9*sin(2*PI*70*t)*sin(PI*mod(t,3.7)/0.025),0)':s=48000:d=12",
      "-filter_complex",
      "[0]volume=-6dB,apad=whole_dur=12,atrim=0:12[s];[s][1]amix=inputs=2:normalize=0:duration=first",
      "-c:a",
      "pcm_f32le",
      f("plosive-master.wav"),
    ]);
    return {
      name: "quiet-mono-plosives",
      description: "quiet mono USB-mic speech with plosive pops, 44.1 kHz 16-bit",
      file: leveled(f("plosive-master.wav"), -34, f("quiet-mono-plosives.wav"), ["-ac", "1", "-ar", "44100", "-c:a", "pcm_s16le"]),
      expect: { channelsOut: 1, compressed: true, sourceSampleRate: 44100 },
    };
  },

  // Interview, host / guest 12 dB quieter / host, ~6 s each: 48 kHz 24-bit stereo, LRA > 10 LU
  // (the guest's third of the short-term values sits 12 LU under the hosts').
  "interview-quiet-guest": ({ b, c, d, f }) => {
    ffmpeg([
      "-i",
      c(),
      "-i",
      b(),
      "-i",
      d(),
      "-filter_complex",
      "[0]atrim=0:6[h1];[1]atrim=0:6,volume=-12dB[g];[2]atrim=0:6[h2];[h1][g][h2]concat=n=3:v=0:a=1,aformat=channel_layouts=stereo",
      "-c:a",
      "pcm_f32le",
      f("interview-master.wav"),
    ]);
    return {
      name: "interview-quiet-guest",
      description: "two-person interview, guest 12 dB quieter, 48 kHz 24-bit",
      file: leveled(f("interview-master.wav"), -24, f("interview-quiet-guest.wav"), ["-ar", "48000", "-c:a", "pcm_s24le"]),
      expect: { channelsOut: 2, levelled: true, sourceSampleRate: 48000 },
    };
  },

  // Loud mastered music bed (chords + pink noise, compressed and limited to 0 dBFS) under speech: ~-9 LUFS.
  "loud-music-bed": ({ a, f }) => {
    ffmpeg([
      "-i",
      a(),
      "-f",
      "lavfi",
      "-i",
      "aevalsrc='0.3*sin(2*PI*110*t)+0.2*sin(2*PI*165*t)+0.15*sin(2*PI*220*t)*(1+sin(2*PI*2*t))':s=48000:d=12",
      "-f",
      "lavfi",
      "-i",
      "anoisesrc=c=pink:a=0.2:d=12:r=48000:seed=1",
      "-filter_complex",
      "[1][2]amix=inputs=2:normalize=0,volume=-8dB[bed];[0]apad=whole_dur=12[s];[s][bed]amix=inputs=2:normalize=0:duration=shortest,aformat=channel_layouts=stereo," +
        "acompressor=threshold=0.1:ratio=8:attack=1:release=50:makeup=6,volume=6dB,alimiter=limit=1:level=0:attack=1:release=20",
      "-c:a",
      "pcm_f32le",
      f("music-master.wav"),
    ]);
    return {
      name: "loud-music-bed",
      description: "loud mastered music bed under speech, ~-9 LUFS, peaks at 0 dBFS, 44.1 kHz MP3 320k",
      file: leveled(
        f("music-master.wav"),
        -9,
        f("loud-music-bed.mp3"),
        ["-ar", "44100", "-c:a", "libmp3lame", "-b:a", "320k"],
        "alimiter=limit=1:level=0:attack=1:release=20",
      ),
      expect: { channelsOut: 2, turnedDown: true, sourceSampleRate: 44100 },
    };
  },

  // Phone-band speech: 300-3400 Hz, 16 kHz mono MP3 at 24 kb/s, ~-22 LUFS.
  "phone-band-mp3": ({ phone, f }) => {
    return {
      name: "phone-band-mp3",
      description: "phone-band speech, 16 kHz mono MP3 at 24 kb/s",
      file: leveled(phone(), -22, f("phone-band.mp3"), ["-ac", "1", "-ar", "16000", "-c:a", "libmp3lame", "-b:a", "24k"]),
      expect: { channelsOut: 1, sourceSampleRate: 16000 },
    };
  },

  // Speech with claps and laughter (noise bursts with fast decay, every 2.3 s): crest factor > 25 dB. 12 s: five claps.
  "claps-laughter": ({ b, f }) => {
    ffmpeg([
      "-i",
      b(),
      "-f",
      "lavfi",
      "-i",
      "anoisesrc=c=white:a=1:d=12:r=48000:seed=1",
      "-filter_complex",
      "[1]volume='if(lt(mod(t,2.3),0.004),1,if(lt(mod(t,2.3),0.06),exp(-60*mod(t,2.3)),0))':eval=frame,volume=0dB[claps];" +
        "[0]volume=-20dB,apad=whole_dur=12[s];[s][claps]amix=inputs=2:normalize=0:duration=shortest,aformat=channel_layouts=stereo",
      "-c:a",
      "pcm_f32le",
      f("claps-master.wav"),
    ]);
    return {
      name: "claps-laughter",
      description: "speech with claps and laughter transients, crest factor > 25 dB",
      file: leveled(f("claps-master.wav"), -28, f("claps-laughter.wav"), ["-ar", "48000", "-c:a", "pcm_s24le"]),
      expect: { channelsOut: 2, compressed: true },
    };
  },

  // Stereo with the mic on the left only (right: a -80 dBFS noise floor).
  "one-dead-channel": ({ c, f }) => {
    ffmpeg([
      "-i",
      c(),
      "-f",
      "lavfi",
      "-i",
      "anoisesrc=c=brown:a=0.0001:d=10:r=44100:seed=1",
      "-filter_complex",
      "[0]aresample=44100,apad=whole_dur=10,atrim=0:10[l];[l][1]join=inputs=2:channel_layout=stereo",
      "-c:a",
      "pcm_f32le",
      f("onechan-master.wav"),
    ]);
    return {
      name: "one-dead-channel",
      description: "stereo with the mic on the left only, 44.1 kHz",
      file: leveled(f("onechan-master.wav"), -26, f("one-dead-channel.wav"), ["-c:a", "pcm_s16le"]),
      expect: { channelsOut: 1, deadChannel: true },
    };
  },

  // 96 kHz 32-bit float with DC offset and 50 Hz mains hum: 8 s of speech, then 2 s where only the hum is left.
  "hi-res-dc-hum": ({ d, f }) => {
    ffmpeg([
      "-i",
      d(),
      "-f",
      "lavfi",
      "-i",
      "aevalsrc='0.02*sin(2*PI*50*t)+0.006*sin(2*PI*150*t)':s=96000:d=10",
      "-filter_complex",
      "[0]aresample=96000,atrim=0:8,apad=whole_dur=10[s];[s][1]amix=inputs=2:normalize=0:duration=first,aformat=channel_layouts=stereo",
      "-c:a",
      "pcm_f32le",
      f("hum-master.wav"),
    ]);
    return {
      name: "hi-res-dc-hum",
      description: "96 kHz 32-bit float with DC offset and 50 Hz hum",
      file: leveled(f("hum-master.wav"), -20, f("hi-res-dc-hum.wav"), ["-ar", "96000", "-c:a", "pcm_f32le"], "dcshift=shift=0.08"),
      expect: { channelsOut: 2, dcRemoved: true, rumble: true, sourceSampleRate: 96000 },
    };
  },

  // A streaming WAV (what `ffmpeg -f wav -` and many recorders write): RIFF and data sizes 0xFFFFFFFF.
  "streaming-wav": ({ a, f }) => {
    const streaming = leveled(a(), -19, f("streaming.wav"), ["-t", "10", "-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le"]);
    const bytes = readFileSync(streaming);
    bytes.writeUInt32LE(0xffffffff, 4);
    const data = bytes.indexOf("data", 12, "latin1");
    bytes.writeUInt32LE(0xffffffff, data + 4);
    writeFileSync(streaming, bytes);
    return {
      name: "streaming-wav",
      description: "streaming WAV with 0xFFFFFFFF RIFF/data sizes",
      file: streaming,
      expect: { channelsOut: 2 },
    };
  },

  // An 8-channel WAV from a field recorder: dialogue on the first two channels, room noise elsewhere.
  "eight-channel": ({ b, c, f }) => {
    ffmpeg([
      "-i",
      b(),
      "-i",
      c(),
      "-f",
      "lavfi",
      "-i",
      "anoisesrc=c=pink:a=0.003:d=10:r=48000:seed=1",
      "-filter_complex",
      "[0]apad=whole_dur=10,atrim=0:10[v1];[1]apad=whole_dur=10,atrim=0:10[v2];[2]asplit=6[n1][n2][n3][n4][n5][n6];" +
        "[v1][v2][n1][n2][n3][n4][n5][n6]join=inputs=8:channel_layout=7.1",
      "-c:a",
      "pcm_f32le",
      f("eight-master.wav"),
    ]);
    return {
      name: "eight-channel",
      description: "8-channel 48 kHz 24-bit WAV from a field recorder",
      file: leveled(f("eight-master.wav"), -30, f("eight-channel.wav"), ["-c:a", "pcm_s24le"]),
      expect: { channelsOut: 2, sourceSampleRate: 48000 },
    };
  },

  // Speech with long silences (3 s of digital zero before and between two phrases), 22.05 kHz.
  "long-silences": ({ c, d, f }) => {
    ffmpeg([
      "-i",
      c(),
      "-i",
      d(),
      "-filter_complex",
      "anullsrc=r=48000:cl=mono,atrim=0:3[z1];anullsrc=r=48000:cl=mono,atrim=0:3[z2];[0]atrim=0:5[p1];[1]atrim=0:5[p2];[z1][p1][z2][p2]concat=n=4:v=0:a=1",
      "-c:a",
      "pcm_f32le",
      f("silences-master.wav"),
    ]);
    return {
      name: "long-silences",
      description: "speech with long digital silences, mono 22.05 kHz",
      file: leveled(f("silences-master.wav"), -40, f("long-silences.wav"), ["-ar", "22050", "-c:a", "pcm_s16le"]),
      expect: { channelsOut: 1, sourceSampleRate: 22050 },
    };
  },

  // A clipped recording: driven 14 dB into 16-bit full scale (flat-topped waveforms).
  clipped: ({ a, f }) => ({
    name: "clipped",
    description: "a recording clipped at 0 dBFS (already distorted), 44.1 kHz 16-bit stereo",
    file: leveled(
      a(),
      -12,
      f("clipped.wav"),
      ["-t", "10", "-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le"],
      "volume=14dB,aformat=sample_fmts=s16",
    ),
    expect: { channelsOut: 2, turnedDown: true },
  }),

  // An MP3 carrying a ~10 MB 3500x3500 cover picture (JPEG of noise at top quality).
  "big-cover": ({ c, f }) => {
    ffmpeg(["-f", "lavfi", "-i", "color=c=gray:s=3500x3500:d=1,noise=alls=80:allf=t", "-frames:v", "1", "-q:v", "1", f("big-cover.jpg")]);
    ffmpeg([
      "-i",
      c(),
      "-i",
      f("big-cover.jpg"),
      "-map",
      "0:a",
      "-map",
      "1:v",
      "-c:v",
      "copy",
      "-disposition:v:0",
      "attached_pic",
      "-ac",
      "2",
      "-ar",
      "44100",
      "-c:a",
      "libmp3lame",
      "-b:a",
      "128k",
      "-id3v2_version",
      "3",
      f("big-cover.mp3"),
    ]);
    return {
      name: "big-cover",
      description: "MP3 with a ~10 MB embedded cover picture",
      file: f("big-cover.mp3"),
      expect: { channelsOut: 2, coverScaled: true },
    };
  },

  // Telephony: an 8 kHz mu-law WAV of a call, ~-30 LUFS.
  "mulaw-call": ({ phone, f }) => {
    return {
      name: "mulaw-call",
      description: "8 kHz mu-law WAV of a phone call",
      file: leveled(phone(), -30, f("mulaw-call.wav"), ["-ac", "1", "-ar", "8000", "-c:a", "pcm_mulaw"]),
      expect: { channelsOut: 1, sourceSampleRate: 8000 },
    };
  },

  // IMA ADPCM WAV (cheap voice recorders), 22.05 kHz mono, loud: ~-14 LUFS with pink room noise.
  "adpcm-recorder": ({ d, f }) => {
    ffmpeg([
      "-i",
      d(),
      "-f",
      "lavfi",
      "-i",
      "anoisesrc=c=pink:a=0.01:d=10:r=48000:seed=1",
      "-filter_complex",
      "[0]apad=whole_dur=10,atrim=0:10[s];[s][1]amix=inputs=2:normalize=0:duration=first",
      "-c:a",
      "pcm_f32le",
      f("adpcm-master.wav"),
    ]);
    return {
      name: "adpcm-recorder",
      description: "IMA ADPCM WAV from a voice recorder, 22.05 kHz mono",
      file: leveled(f("adpcm-master.wav"), -14, f("adpcm-recorder.wav"), ["-ac", "1", "-ar", "22050", "-c:a", "adpcm_ima_wav"]),
      expect: { channelsOut: 1, sourceSampleRate: 22050 },
    };
  },
};

/** Every kind of input in the corpus, in order. */
export const CORPUS_NAMES = Object.keys(INPUTS);

/** The corpus in two halves, one per test file (corpus-dynamics, corpus-formats): level and dynamics, then channels, rates and containers. */
export const DYNAMICS_INPUTS = [
  "quiet-mono-plosives",
  "interview-quiet-guest",
  "loud-music-bed",
  "claps-laughter",
  "long-silences",
  "clipped",
  "adpcm-recorder",
];
export const FORMAT_INPUTS = [
  "phone-band-mp3",
  "one-dead-channel",
  "hi-res-dc-hum",
  "streaming-wav",
  "eight-channel",
  "big-cover",
  "mulaw-call",
];

/** The corpus inputs named (default: all), generated into `dir`. */
export function generateCorpus(dir: string, names: readonly string[] = CORPUS_NAMES): CorpusInput[] {
  const s = sources(dir);
  return names.map((n) => {
    const make = INPUTS[n];
    if (!make) throw new Error(`no corpus input ${n}`);
    return make(s);
  });
}
