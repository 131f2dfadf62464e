/**
 * The corpus: realistic uploads of the kinds creators really send, generated
 * at test time with espeak-ng (several voices) and ffmpeg (noise colours,
 * tones, transients), 20-40 s each so that the whole corpus runs in minutes.
 * Levels spread over -40..-8 LUFS. Used by test/processor/corpus.test.ts and
 * by the bench's corpus row (bench/processor/corpus.ts).
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
  const r = spawnSync("ffmpeg", ["-nostdin", "-hide_banner", "-nostats", "-i", file, "-af", "ebur128", "-f", "null", "-"], { encoding: "utf8" });
  return Number(/I:\s+(-?[\d.]+) LUFS/.exec(r.stderr.slice(r.stderr.lastIndexOf("Summary:")))?.[1] ?? NaN);
}

/** Re-levels a float master to `lufs` (a plain gain) and writes it with `outArgs`. */
function leveled(master: string, lufs: number, out: string, outArgs: string[], extraFilter = ""): string {
  const gain = lufs - integratedLufs(master);
  ffmpeg(["-i", master, "-af", `volume=${gain.toFixed(2)}dB${extraFilter ? "," + extraFilter : ""}`, ...outArgs, out]);
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

/** Every corpus input, generated into `dir`. */
export function generateCorpus(dir: string): CorpusInput[] {
  const a = voice(dir, "a", "en-us", LINES.join(" "));
  const b = voice(dir, "b", "en+f3", LINES.slice(1, 3).join(" "));
  const c = voice(dir, "c", "en-gb+m3", LINES.slice(0, 2).join(" "));
  const d = voice(dir, "d", "en-us+f4", LINES.slice(2).join(" "));
  const out: CorpusInput[] = [];
  const f = (n: string) => path.join(dir, n);

  // 1. Quiet mono USB-mic speech with plosive pops (low, loud thumps): ~-34 LUFS, peaks ~25 dB above.
  ffmpeg([
    "-i", a, "-f", "lavfi", "-i", "aevalsrc='if(lt(mod(t,3.7),0.025),0.9*sin(2*PI*70*t)*sin(PI*mod(t,3.7)/0.025),0)':s=48000:d=30",
    "-filter_complex", "[0]volume=-6dB,apad=whole_dur=30[s];[s][1]amix=inputs=2:normalize=0:duration=first", "-c:a", "pcm_f32le", f("plosive-master.wav"),
  ]);
  out.push({
    name: "quiet-mono-plosives",
    description: "quiet mono USB-mic speech with plosive pops, 44.1 kHz 16-bit",
    file: leveled(f("plosive-master.wav"), -34, f("quiet-mono-plosives.wav"), ["-ac", "1", "-ar", "44100", "-c:a", "pcm_s16le"]),
    expect: { channelsOut: 1, compressed: true, sourceSampleRate: 44100 },
  });

  // 2. Interview, two voices taking turns, the guest 12 dB quieter: 48 kHz 24-bit stereo, LRA > 10 LU.
  ffmpeg([
    "-i", c, "-i", b, "-i", d,
    "-filter_complex", "[1]volume=-12dB[g];[0][g][2]concat=n=3:v=0:a=1,aformat=channel_layouts=stereo,atrim=0:40", "-c:a", "pcm_f32le", f("interview-master.wav"),
  ]);
  out.push({
    name: "interview-quiet-guest",
    description: "two-person interview, guest 12 dB quieter, 48 kHz 24-bit",
    file: leveled(f("interview-master.wav"), -24, f("interview-quiet-guest.wav"), ["-ar", "48000", "-c:a", "pcm_s24le"]),
    expect: { channelsOut: 2, levelled: true, sourceSampleRate: 48000 },
  });

  // 3. Loud mastered music bed (chords + pink noise, compressed and limited to 0 dBFS) under speech: ~-9 LUFS.
  ffmpeg([
    "-i", a,
    "-f", "lavfi", "-i", "aevalsrc='0.3*sin(2*PI*110*t)+0.2*sin(2*PI*165*t)+0.15*sin(2*PI*220*t)*(1+sin(2*PI*2*t))':s=48000:d=30",
    "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.2:d=30:r=48000",
    "-filter_complex",
    "[1][2]amix=inputs=2:normalize=0,volume=-8dB[bed];[0]apad=whole_dur=30[s];[s][bed]amix=inputs=2:normalize=0:duration=first,aformat=channel_layouts=stereo," +
      "acompressor=threshold=0.1:ratio=8:attack=1:release=50:makeup=6,volume=6dB,alimiter=limit=1:level=0:attack=1:release=20",
    "-c:a", "pcm_f32le", f("music-master.wav"),
  ]);
  out.push({
    name: "loud-music-bed",
    description: "loud mastered music bed under speech, ~-9 LUFS, peaks at 0 dBFS, 44.1 kHz MP3 320k",
    file: leveled(f("music-master.wav"), -9, f("loud-music-bed.mp3"), ["-ar", "44100", "-c:a", "libmp3lame", "-b:a", "320k"], "alimiter=limit=1:level=0:attack=1:release=20"),
    expect: { channelsOut: 2, turnedDown: true, sourceSampleRate: 44100 },
  });

  // 4. Phone-band speech: 300-3400 Hz, 16 kHz mono MP3 at 24 kb/s, ~-22 LUFS.
  ffmpeg(["-i", d, "-af", "highpass=f=300,lowpass=f=3400,apad=whole_dur=22,atrim=0:22", "-c:a", "pcm_f32le", f("phone-master.wav")]);
  out.push({
    name: "phone-band-mp3",
    description: "phone-band speech, 16 kHz mono MP3 at 24 kb/s",
    file: leveled(f("phone-master.wav"), -22, f("phone-band.mp3"), ["-ac", "1", "-ar", "16000", "-c:a", "libmp3lame", "-b:a", "24k"]),
    expect: { channelsOut: 1, sourceSampleRate: 16000 },
  });

  // 5. Speech with claps and laughter (noise bursts with fast decay): crest factor > 25 dB.
  ffmpeg([
    "-i", b, "-f", "lavfi", "-i", "anoisesrc=c=white:a=1:d=30:r=48000",
    "-filter_complex",
    "[1]volume='if(lt(mod(t,2.3),0.004),1,if(lt(mod(t,2.3),0.06),exp(-60*mod(t,2.3)),0))':eval=frame,volume=0dB[claps];" +
      "[0]volume=-20dB,apad=whole_dur=30[s];[s][claps]amix=inputs=2:normalize=0:duration=first,aformat=channel_layouts=stereo",
    "-c:a", "pcm_f32le", f("claps-master.wav"),
  ]);
  out.push({
    name: "claps-laughter",
    description: "speech with claps and laughter transients, crest factor > 25 dB",
    file: leveled(f("claps-master.wav"), -28, f("claps-laughter.wav"), ["-ar", "48000", "-c:a", "pcm_s24le"]),
    expect: { channelsOut: 2, compressed: true },
  });

  // 6. Stereo with the mic on the left only (right: a -80 dBFS noise floor).
  ffmpeg([
    "-i", c, "-f", "lavfi", "-i", "anoisesrc=c=brown:a=0.0001:d=20:r=44100",
    "-filter_complex", "[0]aresample=44100,apad=whole_dur=20,atrim=0:20[l];[l][1]join=inputs=2:channel_layout=stereo", "-c:a", "pcm_f32le", f("onechan-master.wav"),
  ]);
  out.push({
    name: "one-dead-channel",
    description: "stereo with the mic on the left only, 44.1 kHz",
    file: leveled(f("onechan-master.wav"), -26, f("one-dead-channel.wav"), ["-c:a", "pcm_s16le"]),
    expect: { channelsOut: 1, deadChannel: true },
  });

  // 7. 96 kHz 32-bit float with DC offset and 50 Hz mains hum.
  ffmpeg([
    "-stream_loop", "1", "-i", d, "-f", "lavfi", "-i", "aevalsrc='0.02*sin(2*PI*50*t)+0.006*sin(2*PI*150*t)':s=96000:d=25",
    "-filter_complex", "[0]aresample=96000,apad=whole_dur=25,atrim=0:25[s];[s][1]amix=inputs=2:normalize=0:duration=first,aformat=channel_layouts=stereo",
    "-c:a", "pcm_f32le", f("hum-master.wav"),
  ]);
  out.push({
    name: "hi-res-dc-hum",
    description: "96 kHz 32-bit float with DC offset and 50 Hz hum",
    file: leveled(f("hum-master.wav"), -20, f("hi-res-dc-hum.wav"), ["-ar", "96000", "-c:a", "pcm_f32le"], "dcshift=shift=0.08"),
    expect: { channelsOut: 2, dcRemoved: true, rumble: true, sourceSampleRate: 96000 },
  });

  // 8. A streaming WAV (what `ffmpeg -f wav -` and many recorders write): RIFF and data sizes 0xFFFFFFFF.
  const streaming = leveled(a, -19, f("streaming.wav"), ["-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le"]);
  const bytes = readFileSync(streaming);
  bytes.writeUInt32LE(0xffffffff, 4);
  const data = bytes.indexOf("data", 12, "latin1");
  bytes.writeUInt32LE(0xffffffff, data + 4);
  writeFileSync(streaming, bytes);
  out.push({ name: "streaming-wav", description: "streaming WAV with 0xFFFFFFFF RIFF/data sizes", file: streaming, expect: { channelsOut: 2 } });

  // 9. An 8-channel WAV from a field recorder: dialogue on the first two channels, room noise elsewhere.
  ffmpeg([
    "-i", b, "-i", c, "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.003:d=24:r=48000",
    "-filter_complex",
    "[0]apad=whole_dur=24,atrim=0:24[v1];[1]apad=whole_dur=24,atrim=0:24[v2];[2]asplit=6[n1][n2][n3][n4][n5][n6];" +
      "[v1][v2][n1][n2][n3][n4][n5][n6]join=inputs=8:channel_layout=7.1",
    "-c:a", "pcm_f32le", f("eight-master.wav"),
  ]);
  out.push({
    name: "eight-channel",
    description: "8-channel 48 kHz 24-bit WAV from a field recorder",
    file: leveled(f("eight-master.wav"), -30, f("eight-channel.wav"), ["-c:a", "pcm_s24le"]),
    expect: { channelsOut: 2, sourceSampleRate: 48000 },
  });

  // 10. Speech with long silences (digital zero between phrases), 22.05 kHz.
  ffmpeg([
    "-i", c, "-i", d,
    "-filter_complex", "anullsrc=r=48000:cl=mono,atrim=0:8[z1];anullsrc=r=48000:cl=mono,atrim=0:6[z2];[z1][0][z2][1]concat=n=4:v=0:a=1",
    "-c:a", "pcm_f32le", f("silences-master.wav"),
  ]);
  out.push({
    name: "long-silences",
    description: "speech with long digital silences, mono 22.05 kHz",
    file: leveled(f("silences-master.wav"), -40, f("long-silences.wav"), ["-ar", "22050", "-c:a", "pcm_s16le"]),
    expect: { channelsOut: 1, sourceSampleRate: 22050 },
  });

  // 11. A clipped recording: driven 14 dB into 16-bit full scale (flat-topped waveforms).
  out.push({
    name: "clipped",
    description: "a recording clipped at 0 dBFS (already distorted), 44.1 kHz 16-bit stereo",
    file: leveled(a, -12, f("clipped.wav"), ["-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le"], "volume=14dB,aformat=sample_fmts=s16"),
    expect: { channelsOut: 2, turnedDown: true },
  });

  // 12. An MP3 carrying a ~10 MB 3500x3500 cover picture (JPEG of noise at top quality).
  ffmpeg(["-f", "lavfi", "-i", "color=c=gray:s=3500x3500:d=1,noise=alls=80:allf=t", "-frames:v", "1", "-q:v", "1", f("big-cover.jpg")]);
  ffmpeg([
    "-i", c, "-i", f("big-cover.jpg"), "-map", "0:a", "-map", "1:v", "-c:v", "copy", "-disposition:v:0", "attached_pic",
    "-ac", "2", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "3", f("big-cover.mp3"),
  ]);
  out.push({
    name: "big-cover",
    description: "MP3 with a ~10 MB embedded cover picture",
    file: f("big-cover.mp3"),
    expect: { channelsOut: 2, coverScaled: true },
  });

  // 13. Telephony: an 8 kHz mu-law WAV of a call, ~-30 LUFS.
  out.push({
    name: "mulaw-call",
    description: "8 kHz mu-law WAV of a phone call",
    file: leveled(f("phone-master.wav"), -30, f("mulaw-call.wav"), ["-ac", "1", "-ar", "8000", "-c:a", "pcm_mulaw"]),
    expect: { channelsOut: 1, sourceSampleRate: 8000 },
  });

  // 14. IMA ADPCM WAV (cheap voice recorders), 22.05 kHz mono, loud: ~-14 LUFS with pink room noise.
  ffmpeg([
    "-i", d, "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.01:d=20:r=48000",
    "-filter_complex", "[0]apad=whole_dur=20,atrim=0:20[s];[s][1]amix=inputs=2:normalize=0:duration=first", "-c:a", "pcm_f32le", f("adpcm-master.wav"),
  ]);
  out.push({
    name: "adpcm-recorder",
    description: "IMA ADPCM WAV from a voice recorder, 22.05 kHz mono",
    file: leveled(f("adpcm-master.wav"), -14, f("adpcm-recorder.wav"), ["-ac", "1", "-ar", "22050", "-c:a", "adpcm_ima_wav"]),
    expect: { channelsOut: 1, sourceSampleRate: 22050 },
  });
  return out;
}
