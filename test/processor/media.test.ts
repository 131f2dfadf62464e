/**
 * The processor's media helpers with real ffmpeg on generated audio: the
 * source measured in parts against ebur128's own whole-file figure, the
 * limiter-loss prediction against what alimiter really does, the ID3 COMM
 * rewrite read back by music-metadata, and bounded artwork fetching from a
 * real local HTTP server.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseFile } from "music-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchArtwork } from "../../processor/media/artwork.ts";
import { aacCutoffHz, bandLimit, frameGridSamples } from "../../processor/media/encoders.ts";
import { writeId3Comment } from "../../processor/media/id3.ts";
import { BlockHistogram, measureInParts, measureLoudness, predictLimitedLufs } from "../../processor/media/loudness.ts";
import { Slots } from "../../processor/media/slots.ts";
import { renditionSpec } from "../../shared/renditions.ts";

import { startArtworkServer, type ArtworkServer } from "./artwork-server.ts";
import { ffmpeg, measure, speechWav } from "./generated-audio.ts";

let dir: string;
let server: ArtworkServer;
let jpeg: Buffer;
const tools = { ffmpeg: "ffmpeg", ffprobe: "ffprobe" };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "processor-media-"));
  ffmpeg(["-f", "lavfi", "-i", "testsrc=s=300x300:d=1", "-frames:v", "1", path.join(dir, "cover.jpg")]);
  jpeg = readFileSync(path.join(dir, "cover.jpg"));
  server = await startArtworkServer(jpeg);
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("AAC band", () => {
  it("follows ffmpeg's AAC_CUTOFF_FROM_BITRATE: what the encoder keeps, hence where a limited AAC branch is low-passed", () => {
    expect(aacCutoffHz(64_000, 2, 44_100)).toBe(9_500);
    expect(aacCutoffHz(128_000, 2, 44_100)).toBe(16_000);
    expect(aacCutoffHz(64_000, 1, 44_100)).toBe(16_000);
    expect(aacCutoffHz(320_000, 2, 22_050)).toBe(11_025);
  });

  it("is cut by a filter that keeps the branch aligned with the source and removes what lies above", () => {
    // A click one second in, at 44.1 and 48 kHz: after the band limit it must still peak on the same
    // sample (the FIR's delay taken back out), the signal must be no shorter, and a 15 kHz tone above a
    // 9.5 kHz cut must be gone.
    for (const rate of [44_100, 48_000]) {
      const click = path.join(dir, `click-${rate}.wav`);
      ffmpeg(["-f", "lavfi", "-i", `aevalsrc='if(eq(n,${rate}),0.9,0)':s=${rate}:d=2`, "-c:a", "pcm_f32le", click]);
      const out = path.join(dir, `click-${rate}.f32`);
      ffmpeg(["-i", click, "-af", `aformat=sample_fmts=flt,${bandLimit(9_500)}`, "-f", "f32le", out]);
      const samples = new Float32Array(new Uint8Array(readFileSync(out)).buffer);
      let peakAt = 0;
      for (let i = 1; i < samples.length; i++) if (Math.abs(samples[i]!) > Math.abs(samples[peakAt]!)) peakAt = i;
      expect(peakAt).toBe(rate);
      expect(samples.length).toBeGreaterThanOrEqual(2 * rate);
    }
    const tone = path.join(dir, "tone-15k.f32");
    ffmpeg(["-f", "lavfi", "-i", "sine=f=15000:d=1:r=44100", "-af", `aformat=sample_fmts=flt,${bandLimit(9_500)}`, "-f", "f32le", tone]);
    const left = new Float32Array(new Uint8Array(readFileSync(tone)).buffer).slice(4410, -4410);
    expect(Math.max(...left.map(Math.abs))).toBeLessThan(1e-3);
  });
});

describe("calibration excerpts", () => {
  it("step on each encoder's frame grid: whole frames at the rendition's rate, whole samples at the working rate", () => {
    expect(frameGridSamples(renditionSpec("aac_64k"), 44_100)).toBe(1024);
    expect(frameGridSamples(renditionSpec("mp3_128k"), 44_100)).toBe(1152);
    expect(frameGridSamples(renditionSpec("opus_48k"), 44_100)).toBe(882);
    // From 48 kHz the AAC grid would be 3.4 s: why the working rate is 44.1 kHz.
    expect(frameGridSamples(renditionSpec("aac_64k"), 48_000)).toBe(163_840);
  });
});

describe("source loudness", () => {
  it("measured in two parts (one per core) matches ebur128 on the whole file", async () => {
    // 250 s: speech whose level steps every 50 s, so the two halves differ.
    const speech = speechWav(dir, "parts-src", -6);
    const src = path.join(dir, "parts.wav");
    ffmpeg([
      "-stream_loop",
      "-1",
      "-i",
      speech,
      "-t",
      "250",
      "-af",
      "volume='if(lt(mod(t,100),50),1,0.4)':eval=frame",
      "-ar",
      "44100",
      "-c:a",
      "pcm_s16le",
      src,
    ]);
    const whole = await measureLoudness(tools, src);
    const parts = await measureInParts(tools, src, 250, new Slots(2));
    expect(parts.parts).toBe(2);
    expect(Math.abs(parts.integratedLufs - whole.integratedLufs), `${parts.integratedLufs} vs ${whole.integratedLufs}`).toBeLessThanOrEqual(
      0.2,
    );
    expect(parts.truePeakDbtp).toBe(whole.truePeakDbtp);
    expect(Math.abs(parts.loudnessRangeLu - whole.loudnessRangeLu)).toBeLessThanOrEqual(1);
    // In one piece (one slot), ebur128's own summary is used as is.
    const one = await measureInParts(tools, src, 250, new Slots(1));
    expect(one).toMatchObject({ parts: 1, integratedLufs: whole.integratedLufs, truePeakDbtp: whole.truePeakDbtp });
  });

  it("predicts what a limiter takes away within 0.4 LU", async () => {
    const src = speechWav(dir, "limit-src", -10);
    const m = await measureInParts(tools, src, 12, new Slots(1));
    const gain = -16 - m.integratedLufs;
    for (const ceiling of [-2.5, -5]) {
      const limited = path.join(dir, `limited${ceiling}.wav`);
      ffmpeg([
        "-i",
        src,
        "-af",
        `aformat=sample_fmts=flt,volume=${gain}dB:precision=float,alimiter=limit=${(10 ** (ceiling / 20)).toFixed(5)}:level=0:latency=1:attack=5:release=50`,
        "-c:a",
        "pcm_f32le",
        limited,
      ]);
      const actual = measure(limited).integratedLufs;
      const predicted = predictLimitedLufs(m.blocks, gain, ceiling) - predictLimitedLufs(m.blocks, gain) - 16;
      expect(Math.abs(predicted - actual), `ceiling ${ceiling}: predicted ${predicted.toFixed(2)}, measured ${actual}`).toBeLessThanOrEqual(
        0.4,
      );
      expect(actual).toBeLessThan(-16.1); // the limiter did take loudness away
    }
  });

  it("gates blocks like BS.1770: silence and quiet passages do not count", () => {
    const h = new BlockHistogram();
    for (let i = 0; i < 100; i++) h.add(-20, -10);
    for (let i = 0; i < 100; i++) h.add(-40, -30); // 20 LU below: under the relative gate
    for (let i = 0; i < 100; i++) h.add(-120.7, -120); // ffmpeg's "no data yet" / digital silence
    expect(h.integrated()).toBeCloseTo(-20, 5);
  });

  it("gives the same answer to the last bit whatever order the blocks arrive in (parts finish in any order)", () => {
    const blocks = Array.from({ length: 5000 }, (_, i) => [-30 + 20 * Math.sin(i * 0.37), -12 + 9 * Math.cos(i * 0.11)] as const);
    const forward = new BlockHistogram();
    const backward = new BlockHistogram();
    for (const [m, p] of blocks) forward.add(m, p);
    for (const [m, p] of [...blocks].reverse()) backward.add(m, p);
    for (const [gain, ceiling] of [
      [0, undefined],
      [7.3, -1.5],
      [12, -4],
    ] as const) {
      expect(Object.is(predictLimitedLufs(forward, gain, ceiling), predictLimitedLufs(backward, gain, ceiling))).toBe(true);
    }
  });
});

describe("ID3 COMM", () => {
  it("replaces ffmpeg's TXXX:comment with a COMM frame, keeping every other frame and the audio bytes", async () => {
    const mp3 = path.join(dir, "tagged.mp3");
    const meta = path.join(dir, "ch.ffmeta");
    await import("node:fs/promises").then((fs) =>
      fs.writeFile(
        meta,
        ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=One\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=3000\ntitle=Two\n",
      ),
    );
    ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "sine=f=440:d=3",
      "-f",
      "ffmetadata",
      "-i",
      meta,
      "-i",
      path.join(dir, "cover.jpg"),
      "-map",
      "0:a",
      "-map",
      "2:v",
      "-map_chapters",
      "1",
      "-c:v",
      "copy",
      "-disposition:v:0",
      "attached_pic",
      "-metadata",
      "title=Episode",
      "-metadata",
      "artist=Author",
      "-metadata",
      "album=Show",
      "-metadata",
      "date=2026-11-20",
      "-metadata",
      "comment=From ffmpeg",
      "-c:a",
      "libmp3lame",
      "-b:a",
      "64k",
      "-id3v2_version",
      "4",
      mp3,
    ]);
    const audioHash = (f: string) => {
      const b = readFileSync(f);
      const size = ((b[6]! << 21) | (b[7]! << 14) | (b[8]! << 7) | b[9]!) + 10;
      return createHash("sha256").update(b.subarray(size)).digest("hex");
    };
    const before = audioHash(mp3);
    expect((await parseFile(mp3)).native["ID3v2.4"]!.map((t) => t.id)).toContain("TXXX:comment");

    await writeId3Comment(mp3, "Show notes: ünïcode, and a second sentence.");
    const after = await parseFile(mp3, { includeChapters: true });
    const ids = after.native["ID3v2.4"]!.map((t) => t.id);
    expect(ids).toContain("COMM");
    expect(ids).not.toContain("TXXX:comment");
    expect(after.common.comment?.[0]?.text).toBe("Show notes: ünïcode, and a second sentence.");
    expect(after.common).toMatchObject({ title: "Episode", artist: "Author", album: "Show", year: 2026 });
    expect(after.common.picture?.[0]?.data.length).toBe(jpeg.length);
    expect(after.format.chapters?.map((c) => c.title)).toEqual(["One", "Two"]);
    expect(audioHash(mp3)).toBe(before);
    expect(Math.abs(after.format.duration! - 3)).toBeLessThan(0.1);
  });
});

describe("artwork", () => {
  it("fetches a JPEG into the job folder", async () => {
    const art = await fetchArtwork(server.url("/cover.jpg"), dir);
    expect(art).toMatchObject({ mimeType: "image/jpeg", bytes: jpeg.length });
    expect(readFileSync((art as { path: string }).path).equals(jpeg)).toBe(true);
  });

  it("reports, never throws: 404, not an image, over the size bound, timeout, bad scheme", async () => {
    expect(await fetchArtwork(server.url("/missing"), dir)).toEqual({ error: "artwork fetch answered HTTP 404" });
    expect(await fetchArtwork(server.url("/text"), dir)).toEqual({ error: "artwork is neither JPEG nor PNG" });
    expect(await fetchArtwork(server.url("/huge"), dir)).toEqual({ error: `artwork is 52428800 bytes; the limit is ${5 * 1024 * 1024}` });
    expect(await fetchArtwork(server.url("/cover.jpg"), dir, { maxBytes: 100 })).toEqual({
      error: `artwork is ${jpeg.length} bytes; the limit is 100`,
    });
    const started = Date.now();
    expect(await fetchArtwork(server.url("/slow"), dir, { timeoutMs: 300 })).toEqual({ error: "artwork fetch timed out after 300 ms" });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await fetchArtwork("file:///etc/passwd", dir)).toEqual({ error: "artwork URL is not http(s)" });
  });
});
