/**
 * Each pipeline stage on audio generated here with real ffmpeg / espeak-ng.
 * Loudness is checked with the test's own ebur128 run, not the processor's.
 * Nothing is mocked: stages get a no-op span (no SDK registered in this file).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { parseFile } from "music-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LOUDNESS } from "../../shared/podcast.ts";
import { RENDITIONS } from "../../shared/renditions.ts";
import { InputRejected } from "../../processor/errors.ts";
import type { StageContext } from "../../processor/stages/context.ts";
import { metadata } from "../../processor/stages/metadata.ts";
import { normalize } from "../../processor/stages/normalize.ts";
import { opusTrim, transcode, type TranscodeOutput } from "../../processor/stages/transcode.ts";
import { readOpusOutputGain } from "../../processor/media/opus-gain.ts";
import { validate, type SourceAudio } from "../../processor/stages/validate.ts";
import { SAMPLES_PER_PIXEL, waveform } from "../../processor/stages/waveform.ts";
import { startArtworkServer, type ArtworkServer } from "./artwork-server.ts";
import { ffprobeChapters } from "../support/rendition-chapters.ts";
import { ffmpeg, measure, mp3WithChapters, clickySpeechWav, probeStream, speechWav, toneWav } from "./generated-audio.ts";

let dir: string;
const tools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe" };
const ctx = (jobDir = dir): StageContext => ({
  tools,
  jobDir,
  signal: new AbortController().signal,
  span: trace.getTracer("test").startSpan("stage"),
});
const SIX_HOURS = 6 * 3600;
const samePicture = (pictures: { data: Uint8Array }[] | undefined, expected: Buffer) =>
  pictures?.length === 1 && Buffer.from(pictures[0]!.data).equals(expected);
const tags = { title: "Episode 1", artist: "Test Author", album: "Test Show", date: "2026-11-20", comment: "What this episode is about." };

/**
 * How far a rendition's duration may differ from the source's: 50 ms plus the
 * codec's documented padding (issue #4). MP3: LAME's 576-sample encoder delay +
 * 529 decoder delay + up to one 1152-sample frame of end padding; AAC: 1024
 * priming samples (the MP4 edit list should hide them) + up to one 1024-sample
 * frame; Opus: pre-skip is exact, up to one 20 ms frame at the end.
 */
const DURATION_TOLERANCE_S = { mp3: 0.05 + 2257 / 44100, aac: 0.05 + 2048 / 44100, opus: 0.05 + 0.02 } as const;

let artwork: ArtworkServer;
let coverJpeg: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "processor-stages-"));
  ffmpeg(["-f", "lavfi", "-i", "testsrc=s=200x200:d=1", "-frames:v", "1", path.join(dir, "cover.jpg")]);
  coverJpeg = readFileSync(path.join(dir, "cover.jpg"));
  artwork = await startArtworkServer(coverJpeg);
});
afterAll(async () => {
  await artwork?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rejection(file: string, max = SIX_HOURS): Promise<InputRejected> {
  const err = await validate({ sourcePath: file, maxDurationSeconds: max }, ctx()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputRejected);
  return err as InputRejected;
}

describe("validate", () => {
  it("rejects a zero-byte file", async () => {
    const f = path.join(dir, "empty.mp3");
    writeFileSync(f, "");
    const err = await rejection(f);
    expect(err.code).toBe("empty");
    expect(err.message).toMatch(/empty \(0 bytes\)/);
  });

  it("rejects a text file renamed .mp3 as not audio", async () => {
    const f = path.join(dir, "notes.mp3");
    writeFileSync(f, "These are my show notes, not audio.\n".repeat(200));
    const err = await rejection(f);
    expect(err.code).toBe("not_audio");
    expect(err.message).toMatch(/not an audio file/);
  });

  it("rejects a 0.5 s clip as too short", async () => {
    const f = path.join(dir, "short.wav");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=0.5", f]);
    const err = await rejection(f);
    expect(err.code).toBe("too_short");
    expect(err.message).toMatch(/too short: 0\.50 s .* minimum is 1 s/);
  });

  it("rejects a truncated WAV whose header claims more data", async () => {
    const full = path.join(dir, "full.wav");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=10", "-ac", "2", full]);
    const cut = path.join(dir, "truncated.wav");
    writeFileSync(cut, readFileSync(full).subarray(0, 800_001));
    const err = await rejection(cut);
    expect(err.code).toBe("truncated");
    expect(err.message).toMatch(/truncated file/);
  });

  it("rejects an MP3 cut short of the length its Xing header declares", async () => {
    const full = path.join(dir, "full.mp3");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=10", "-c:a", "libmp3lame", "-b:a", "128k", full]);
    const cut = path.join(dir, "truncated.mp3");
    writeFileSync(cut, readFileSync(full).subarray(0, 100_000));
    const err = await rejection(cut);
    expect(err.code).toBe("truncated");
    expect(err.message).toMatch(/declares 10\.0 s but only 6\.\d s/);
  });

  it("rejects an MP3 with garbage in the middle as corrupt", async () => {
    const f = path.join(dir, "corrupt.mp3");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=10", "-c:a", "libmp3lame", "-b:a", "128k", f]);
    const fd = openSync(f, "r+");
    const garbage = Buffer.alloc(30_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) % 251;
    writeSync(fd, garbage, 0, garbage.length, 40_000);
    closeSync(fd);
    const err = await rejection(f);
    expect(err.code).toBe("corrupt");
    expect(err.message).toMatch(/corrupt audio data: \d+ decode errors/);
  });

  it("rejects a video-only file as having no audio stream", async () => {
    const f = path.join(dir, "video.mp4");
    ffmpeg(["-f", "lavfi", "-i", "testsrc=d=2:s=160x120", "-c:v", "mpeg4", f]);
    const err = await rejection(f);
    expect(err.code).toBe("no_audio_stream");
    expect(err.message).toMatch(/only video/);
  });

  it("rejects an unsupported codec by name", async () => {
    const f = path.join(dir, "voice.wma");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=3", "-c:a", "wmav2", f]);
    const err = await rejection(f);
    expect(err.code).toBe("unsupported_codec");
    expect(err.message).toMatch(/unsupported audio codec "wmav2"/);
  });

  it("accepts telephony codecs in WAV (mu-law, A-law, IMA ADPCM, MS ADPCM)", async () => {
    for (const codec of ["pcm_mulaw", "pcm_alaw", "adpcm_ima_wav", "adpcm_ms"]) {
      const f = path.join(dir, `${codec}.wav`);
      ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=3", "-ar", "8000", "-c:a", codec, f]);
      const s = await validate({ sourcePath: f, maxDurationSeconds: SIX_HOURS }, ctx());
      expect(s.codec, codec).toBe(codec);
      expect(Math.abs(s.durationSeconds - 3), codec).toBeLessThan(0.1);
    }
  });

  it("accepts a streaming WAV whose RIFF and data sizes are 0xFFFFFFFF or 0, and decodes it whole", async () => {
    const full = path.join(dir, "to-stream.wav");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=6", "-ac", "2", full]);
    for (const size of [0xffffffff, 0]) {
      const bytes = readFileSync(full);
      bytes.writeUInt32LE(size, 4);
      bytes.writeUInt32LE(size, bytes.indexOf("data", 12, "latin1") + 4);
      const f = path.join(dir, `streaming-${size}.wav`);
      writeFileSync(f, bytes);
      const s = await validate({ sourcePath: f, maxDurationSeconds: SIX_HOURS }, ctx());
      expect(Math.abs(s.durationSeconds - 6), String(size)).toBeLessThan(0.05);
    }
  });

  it("stops decoding as soon as the audio passes the maximum duration (a header that declares nothing)", async () => {
    const f = path.join(dir, "long-streaming.wav");
    ffmpeg(["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "600", "-c:a", "pcm_s16le", f]);
    const bytes = readFileSync(f);
    bytes.writeUInt32LE(0xffffffff, 4);
    bytes.writeUInt32LE(0xffffffff, bytes.indexOf("data", 12, "latin1") + 4);
    writeFileSync(f, bytes);
    const err = await rejection(f, 30);
    expect(err.code).toBe("too_long");
    expect(err.message).toMatch(/too long: 0\.01 h of audio; the maximum is 0\.01 h/);
  });

  it("rejects audio longer than MAX_DURATION_SECONDS", async () => {
    const f = path.join(dir, "long.wav");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=4", f]);
    const err = await rejection(f, 3);
    expect(err.code).toBe("too_long");
  });

  it("describes good audio and reads its chapters", async () => {
    const speech = speechWav(dir, "chaptered-src", 0);
    const mp3 = mp3WithChapters(dir, speech);
    const s = await validate({ sourcePath: mp3.path, maxDurationSeconds: SIX_HOURS }, ctx());
    expect(s).toMatchObject({ format: "mp3", codec: "mp3", sampleRate: 44100, channels: 2 });
    expect(s.durationSeconds).toBeGreaterThan(10);
    expect(s.chapters.map((c) => [c.startTime, c.title])).toEqual(mp3.chapters.map((c) => [c.start, c.title]));
  });
});

/** Runs normalize + transcode on a source and checks every rendition with the test's own measurement. */
async function encodeAndCheck(source: string, name: string) {
  const jobDir = mkdtempSync(path.join(dir, `${name}-`));
  const s = await validate({ sourcePath: source, maxDurationSeconds: SIX_HOURS }, ctx(jobDir));
  const plan = await normalize({ source: s, target: DEFAULT_LOUDNESS }, ctx(jobDir));
  const out = await transcode({ source: s, plan, tags, chapters: s.chapters }, ctx(jobDir));
  expect(out.renditions.map((r) => r.spec.id).sort()).toEqual(RENDITIONS.map((r) => r.id).sort());
  for (const r of out.renditions) {
    const m = measure(r.path);
    expect(
      Math.abs(m.integratedLufs - DEFAULT_LOUDNESS.integratedLufs),
      `${name} ${r.spec.id} ${m.integratedLufs} LUFS`,
    ).toBeLessThanOrEqual(1);
    expect(m.truePeakDbtp, `${name} ${r.spec.id} true peak`).toBeLessThanOrEqual(DEFAULT_LOUDNESS.truePeakDbtp + 0.05);
    const p = probeStream(r.path);
    expect(p.codec).toBe(r.spec.codec === "aac" ? "aac" : r.spec.codec);
    expect(p.sampleRate).toBe(r.spec.sampleRate);
    expect(Math.abs(p.duration - s.durationSeconds), `${name} ${r.spec.id} duration`).toBeLessThanOrEqual(
      DURATION_TOLERANCE_S[r.spec.codec],
    );
    expect(r.bytes).toBe(statSync(r.path).size);
  }
  return { source: s, plan, out, jobDir };
}

describe("normalize + transcode", () => {
  it("brings quiet speech up to -16 LUFS in every rendition, true peak under -1 dBTP", async () => {
    const { plan, source } = await encodeAndCheck(speechWav(dir, "quiet", -14), "quiet");
    expect(plan.inputLufs).toBeLessThan(-25);
    expect(plan.chain.gainDb).toBeGreaterThan(8);
    expect(source.channels).toBe(2);
  });

  it("brings loud speech down without limiting more than needed", async () => {
    const { plan } = await encodeAndCheck(speechWav(dir, "loud", 8), "loud");
    expect(plan.chain.gainDb).toBeLessThan(0);
  });

  it("limits peaks the gain would push over the ceiling (speech with clicks) in the shared chain, once", async () => {
    const { plan } = await encodeAndCheck(clickySpeechWav(dir), "clicky");
    expect(plan.inputTruePeakDbtp + DEFAULT_LOUDNESS.integratedLufs - plan.inputLufs).toBeGreaterThan(0);
    expect(plan.limiterCeilingDb).toBeLessThan(DEFAULT_LOUDNESS.truePeakDbtp);
    expect(plan.mastered.truePeakDbtp).toBeLessThanOrEqual(DEFAULT_LOUDNESS.truePeakDbtp);
    expect(Math.abs(plan.mastered.integratedLufs - DEFAULT_LOUDNESS.integratedLufs)).toBeLessThanOrEqual(0.5);
  });

  it("handles pure tones (no limiter needed)", async () => {
    const { plan } = await encodeAndCheck(toneWav(dir), "tone");
    expect(plan.limiterCeilingDb).toBeUndefined();
    expect(plan.chain.compressor).toBeUndefined();
    for (const r of RENDITIONS) expect(plan.branches[r.id].limiterCeilingDb).toBeUndefined();
  });
});

describe("loudness is never a reason to refuse", () => {
  it("a target no chain can reach (-10 LUFS under a -9 dBTP ceiling) publishes with a loudness warning per rendition that misses", async () => {
    const jobDir = mkdtempSync(path.join(dir, "impossible-"));
    const target = { integratedLufs: -10, truePeakDbtp: -9 };
    // 5 s: every rendition is encoded twice here (the correction pass), so the clip is kept short.
    const s = await validate({ sourcePath: clickySpeechWav(dir, 5), maxDurationSeconds: SIX_HOURS }, ctx(jobDir));
    const plan = await normalize({ source: s, target }, ctx(jobDir));
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    try {
      const out = await transcode({ source: s, plan, tags, chapters: [] }, ctx(jobDir));
      expect(out.renditions).toHaveLength(RENDITIONS.length);
      const warned = out.renditions.filter((r) => r.warning);
      expect(warned.length).toBeGreaterThan(0);
      for (const r of warned) {
        expect(r.warning).toMatch(new RegExp(`rendition ${r.spec.id} measured .* the target is -10 \\+-1 LU with true peak <= -9 dBTP`));
        expect(r.corrected, r.spec.id).toBe(true);
        const span = exporter.getFinishedSpans().find((x) => x.name === `audio.transcode.${r.spec.id}`)!;
        expect(span.status.code).toBe(2); // ERROR
        expect(span.attributes["audio.loudness.warning"]).toBe(r.warning);
        expect(span.attributes["audio.rendition.normalized"]).toBe(false);
        expect(span.attributes["audio.rendition.corrected"]).toBe(true);
      }
    } finally {
      trace.disable();
    }
  });
});

describe("an Opus rendition that misses is brought on target by its header's output gain, not a second encode", () => {
  it("chooses the gain that a peak over the ceiling or loudness off target needs, and none where no gain can do", () => {
    const target = DEFAULT_LOUDNESS; // -16 LUFS, -1 dBTP
    // Peak 0.5 dB over, loudness on target: down by the excess and the margin.
    expect(opusTrim({ integratedLufs: -16, truePeakDbtp: -0.5, loudnessRangeLu: 5 }, target)).toBe(-0.6);
    // Too loud with room at the peak: down to the target.
    expect(opusTrim({ integratedLufs: -14.7, truePeakDbtp: -0.5, loudnessRangeLu: 5 }, target)).toBe(-1.3);
    // Too quiet with room at the peak: up, as far as the target.
    expect(opusTrim({ integratedLufs: -17.2, truePeakDbtp: -4, loudnessRangeLu: 5 }, target)).toBe(1.2);
    // Too quiet and no room at the peak, or a peak so hot that the loudness would leave the tolerance: only an encode can.
    expect(opusTrim({ integratedLufs: -17.2, truePeakDbtp: -1.3, loudnessRangeLu: 5 }, target)).toBeUndefined();
    expect(opusTrim({ integratedLufs: -16.2, truePeakDbtp: 0, loudnessRangeLu: 5 }, target)).toBeUndefined();
  });

  it("an Opus branch fed 1.3 dB too hot publishes on target from its first encode, its header gain applied by ffmpeg's decoder", async () => {
    const jobDir = mkdtempSync(path.join(dir, "trim-"));
    const s = await validate({ sourcePath: speechWav(dir, "trim-src", 0), maxDurationSeconds: SIX_HOURS }, ctx(jobDir));
    const plan = await normalize({ source: s, target: DEFAULT_LOUDNESS }, ctx(jobDir));
    // A branch 1.3 dB hotter than calibration chose: loud and over the ceiling, what an unheard overshoot does to the peak.
    const opus = plan.branches.opus_48k;
    const hot = { ...plan, branches: { ...plan.branches, opus_48k: { extraGainDb: (opus.extraGainDb ?? 0) + 1.3 } } };
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    try {
      const out = await transcode({ source: s, plan: hot, tags, chapters: [] }, ctx(jobDir));
      const r = out.renditions.find((x) => x.spec.id === "opus_48k")!;
      expect(r.corrected).toBe(false);
      expect(r.warning).toBeUndefined();
      expect(r.outputGainDb).toBeLessThan(-0.5);
      // What is published: the header carries the gain, and an independent measurement (ffmpeg applies it) is on target.
      expect(await readOpusOutputGain(r.path)).toBeCloseTo(r.outputGainDb!, 2);
      const m = measure(r.path);
      expect(m).toEqual(r.loudness);
      expect(Math.abs(m.integratedLufs - DEFAULT_LOUDNESS.integratedLufs)).toBeLessThanOrEqual(1);
      expect(m.truePeakDbtp).toBeLessThanOrEqual(DEFAULT_LOUDNESS.truePeakDbtp);
      // The rewritten page's CRC is right: ffmpeg checking every page's CRC decodes it without a complaint.
      expect(() => ffmpeg(["-err_detect", "crccheck", "-xerror", "-i", r.path, "-f", "null", "-"])).not.toThrow();
      const span = exporter.getFinishedSpans().find((x) => x.name === "audio.transcode.opus_48k")!;
      expect(span.attributes["audio.loudness.output_gain_db"]).toBe(r.outputGainDb);
      expect(span.attributes["audio.rendition.corrected"]).toBe(false);
      expect(span.events.map((e) => e.name)).toContain("loudness trimmed by the opus output gain");
    } finally {
      trace.disable();
    }
  });
});

describe("metadata + waveform", () => {
  let source: SourceAudio;
  let out: TranscodeOutput;
  let jobDir: string;
  beforeAll(async () => {
    const mp3 = mp3WithChapters(dir, speechWav(dir, "meta-src", 0));
    jobDir = mkdtempSync(path.join(dir, "meta-"));
    source = await validate({ sourcePath: mp3.path, maxDurationSeconds: SIX_HOURS }, ctx(jobDir));
    const plan = await normalize({ source, target: DEFAULT_LOUDNESS }, ctx(jobDir));
    out = await transcode({ source, plan, tags, chapters: source.chapters, artworkUrl: artwork.url("/cover.jpg") }, ctx(jobDir));
  });

  it("renditions carry tags and chapters (ID3 CHAP + CTOC), and chapters.json is Podcasting 2.0", async () => {
    const m = await metadata({ renditions: out.renditions, chapters: source.chapters, comment: tags.comment }, ctx(jobDir));
    for (const r of m.renditions) {
      expect(r.title, r.spec.id).toBe("Episode 1");
      expect(Math.abs(r.durationSeconds - source.durationSeconds), r.spec.id).toBeLessThanOrEqual(DURATION_TOLERANCE_S[r.spec.codec]);
      expect(r.sampleRate).toBe(r.spec.sampleRate);
      expect(r.channels).toBe(2);
    }
    const mp3 = m.renditions.find((r) => r.spec.id === "mp3_128k")!;
    expect(mp3.chapterCount).toBe(3);
    const parsed = await parseFile(mp3.path);
    const frames = parsed.native["ID3v2.4"]!.map((t) => t.id);
    expect(frames).toContain("CTOC");
    expect(frames.filter((f) => f === "CHAP")).toHaveLength(3);
    expect(frames).toEqual(expect.arrayContaining(["TIT2", "TPE1", "TALB", "TDRC", "COMM", "APIC"]));
    expect(parsed.common).toMatchObject({ title: "Episode 1", artist: "Test Author", album: "Test Show", year: 2026 });
    expect(parsed.common.comment?.[0]?.text).toBe(tags.comment);
    expect(samePicture(parsed.common.picture, coverJpeg), "mp3 cover is the podcast's artwork").toBe(true);
    expect(mp3.bytes).toBe(statSync(mp3.path).size);
    const aac = await parseFile(m.renditions.find((r) => r.spec.id === "aac_128k")!.path, { includeChapters: true });
    expect(aac.format.chapters?.map((c) => c.title)).toEqual(["Intro", "The guest", "Codecs; opinions = many"]);
    expect(aac.common).toMatchObject({ title: "Episode 1", artist: "Test Author", album: "Test Show", year: 2026 });
    expect(aac.common.comment?.[0]?.text).toBe(tags.comment);
    expect(samePicture(aac.common.picture, coverJpeg), "m4a cover is the podcast's artwork").toBe(true);
    for (const r of m.renditions) expect(r.hasCover, r.spec.id).toBe(r.spec.codec !== "opus");
    // Every container carries the chapters at their times, to the millisecond (Ogg's too: ffmpeg 5.1's own
    // CHAPTERxxx writer would put 4.5 s at 5.5 s).
    for (const r of m.renditions) {
      const read = await ffprobeChapters(r.path);
      expect(
        read.map((c) => c.title),
        r.spec.id,
      ).toEqual(["Intro", "The guest", "Codecs; opinions = many"]);
      for (const [i, c] of read.entries()) expect(c.start, `${r.spec.id} chapter ${i}`).toBeCloseTo([0, 4.5, 8][i]!, 3);
    }
    const json = JSON.parse(readFileSync(m.chaptersJson!.path, "utf8"));
    expect(json.version).toBe("1.2.0");
    expect(json.chapters.map((c: { startTime: number; title: string }) => [c.startTime, c.title])).toEqual([
      [0, "Intro"],
      [4.5, "The guest"],
      [8, "Codecs; opinions = many"],
    ]);
  });

  it("waveform: audiowaveform JSON v2 and .dat from the transcode's PCM tap, plus an SVG", async () => {
    const tapSamples = statSync(out.waveformTap.path).size / 2;
    expect(Math.abs(tapSamples / out.waveformTap.sampleRate - source.durationSeconds)).toBeLessThan(0.1);
    const w = await waveform({ tap: out.waveformTap }, ctx(jobDir));
    const expectedLength = Math.ceil(tapSamples / SAMPLES_PER_PIXEL);
    expect(w.length).toBe(expectedLength);

    const json = JSON.parse(readFileSync(w.json, "utf8"));
    expect(json).toMatchObject({ version: 2, channels: 1, sample_rate: 8000, samples_per_pixel: 800, bits: 8, length: expectedLength });
    expect(json.data).toHaveLength(2 * expectedLength);
    for (let i = 0; i < json.data.length; i += 2) {
      expect(json.data[i]).toBeLessThanOrEqual(json.data[i + 1]);
      expect(json.data[i]).toBeGreaterThanOrEqual(-128);
      expect(json.data[i + 1]).toBeLessThanOrEqual(127);
    }
    // Speech normalised to -16 LUFS reaches well beyond a quarter of full scale somewhere.
    expect(Math.max(...json.data)).toBeGreaterThan(32);

    const dat = readFileSync(w.dat);
    expect(dat.readInt32LE(0)).toBe(2);
    expect(dat.readUInt32LE(4)).toBe(1);
    expect(dat.readInt32LE(8)).toBe(8000);
    expect(dat.readInt32LE(12)).toBe(800);
    expect(dat.readUInt32LE(16)).toBe(expectedLength);
    expect(dat.readInt32LE(20)).toBe(1);
    expect(dat.length).toBe(24 + 2 * expectedLength);
    expect([...new Int8Array(dat.buffer, dat.byteOffset + 24, 2 * expectedLength)]).toEqual(json.data);

    const svg = readFileSync(w.svg, "utf8");
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="100" viewBox="0 0 \d+ 100"/);
    expect(svg.match(/M\d+ /g)!.length).toBe(Math.min(1000, expectedLength));
  });
});

describe("cover art", () => {
  const recordingCtx = (jobDir: string) => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const span = provider.getTracer("test").startSpan("audio.transcode");
    return {
      ctx: { ...ctx(jobDir), span },
      finished: () => {
        span.end();
        return exporter.getFinishedSpans()[0]!;
      },
    };
  };

  it("an upload's own picture wins over the podcast's artwork; a failed artwork fetch does not fail the episode", async () => {
    const picture = path.join(dir, "upload-cover.png");
    ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=64x64:d=1", "-frames:v", "1", picture]);
    const withPicture = path.join(dir, "with-picture.mp3");
    ffmpeg([
      "-i",
      speechWav(dir, "pic-src", -6),
      "-i",
      picture,
      "-map",
      "0:a",
      "-map",
      "1:v",
      "-c:v",
      "copy",
      "-disposition:v:0",
      "attached_pic",
      "-c:a",
      "libmp3lame",
      "-b:a",
      "128k",
      "-id3v2_version",
      "4",
      withPicture,
    ]);

    const jobA = mkdtempSync(path.join(dir, "cover-a-"));
    const a = await validate({ sourcePath: withPicture, maxDurationSeconds: SIX_HOURS }, ctx(jobA));
    expect(a.coverStreamIndex).toBe(1);
    const planA = await normalize({ source: a, target: DEFAULT_LOUDNESS }, ctx(jobA));
    const recA = recordingCtx(jobA);
    const outA = await transcode({ source: a, plan: planA, tags, chapters: [], artworkUrl: artwork.url("/cover.jpg") }, recA.ctx);
    expect(recA.finished().attributes["audio.artwork.source"]).toBe("upload");
    for (const file of [
      outA.renditions.find((r) => r.spec.id === "mp3_64k")!.path,
      outA.renditions.find((r) => r.spec.id === "aac_64k")!.path,
    ]) {
      expect(samePicture((await parseFile(file)).common.picture, readFileSync(picture)), file).toBe(true);
    }

    const jobB = mkdtempSync(path.join(dir, "cover-b-"));
    const b = await validate({ sourcePath: toneWav(dir, 3), maxDurationSeconds: SIX_HOURS }, ctx(jobB));
    expect(b.coverStreamIndex).toBeUndefined();
    const planB = await normalize({ source: b, target: DEFAULT_LOUDNESS }, ctx(jobB));
    const recB = recordingCtx(jobB);
    const outB = await transcode({ source: b, plan: planB, tags, chapters: [], artworkUrl: artwork.url("/missing") }, recB.ctx);
    expect(outB.renditions).toHaveLength(RENDITIONS.length);
    const span = recB.finished();
    expect(span.attributes).toMatchObject({ "audio.artwork.source": "none", "audio.artwork.error": "artwork fetch answered HTTP 404" });
    expect((await parseFile(outB.renditions[0]!.path)).common.picture).toBeUndefined();
  });
});

describe("a missing tool", () => {
  it("is reported by name", async () => {
    const { missingTools } = await import("../../processor/media/tools.ts");
    expect(await missingTools({ ffmpeg: "ffmpeg", ffprobe: path.join(dir, "no-such-ffprobe") })).toEqual([
      `ffprobe (${path.join(dir, "no-such-ffprobe")})`,
    ]);
    const { ToolsMissing } = await import("../../processor/service.ts");
    expect(new ToolsMissing(["ffprobe (x)"]).message).toMatch(/apt-get install ffmpeg.*brew install ffmpeg/);
    expect(execFileSync("ffmpeg", ["-version"], { encoding: "utf8" })).toMatch(/ffmpeg version/);
  });
});
