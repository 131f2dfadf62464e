/**
 * Where calibration listens (processor/stages/calibration.ts excerptStarts),
 * on an episode as long as the processor accepts, and the overshoot it plans
 * for over the whole episode (expectedOvershoot): pure functions of 100 ms
 * frames, so the frames are written here. What real encoders do is tested
 * through ffmpeg in stages.test.ts and the corpus test.
 */
import { describe, expect, it } from "vitest";
import { FramePeaks } from "../../processor/media/loudness.ts";
import { bestFrames, excerptStarts, expectedOvershoot, hotFrameOvershoots } from "../../processor/stages/calibration.ts";

describe("where calibration listens", () => {
  it("chooses among a 4-hour episode's 144 000 frames: the start, the sharp attacks to a hot level, the hottest peaks", () => {
    const frames = new FramePeaks();
    const n = 4 * 3600 * 10;
    // Speech-like: peaks around -12 dBTP, a half-second pause every 5 s (-40).
    const peakAt = (i: number) => (i % 50 < 5 ? -40 : -12 + ((i * 7919) % 13) / 10);
    const special = new Map([
      [100_005, -1], // the first word after a pause, 2 h 46 min in: the hottest peak and the sharpest attack
      [140_005, -2], // another attack after a pause, near the end
      [20_020, -1.5], // a hot peak inside a sentence
    ]);
    for (let i = 0; i < n; i++) frames.push((i + 1) / 10, special.get(i) ?? peakAt(i));
    const starts = excerptStarts(frames, 16, n / 10);
    expect(starts[0]).toBe(0); // the start, as the encoder meets it
    for (const i of special.keys()) {
      const t = (i + 1) / 10;
      expect(
        starts.some((s) => Math.abs(s - (t - 0.5)) < 1e-6),
        `a window centred on ${t} s`,
      ).toBe(true);
    }
    expect(starts.length).toBeLessThanOrEqual(16);
    expect(starts.every((s, k) => k === 0 || s - starts[k - 1]! >= 1)).toBe(true);
    // The held-out set avoids the first and still hears the hot passages around them.
    const held = excerptStarts(frames, 16, n / 10, starts);
    expect(held.every((h) => starts.every((s) => Math.abs(s - h) >= 1))).toBe(true);
    expect(held.length).toBeGreaterThan(0);
  });

  it("keeps the best candidates in a bounded heap, in the order a stable sort of all of them gives (ties in time order)", () => {
    let seed = 3;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const n of [0, 1, 7, 500, 20_000]) {
      const score = Array.from({ length: n }, () => Math.round(rnd() * 40) / 10); // 41 values: many ties
      const eligible = (i: number) => score[i]! > 0.5;
      const sorted = score
        .map((v, i) => ({ v, i }))
        .filter((c) => eligible(c.i))
        .sort((a, b) => b.v - a.v)
        .map((c) => c.i);
      for (const keep of [1, 16, 600, n + 5]) {
        expect([...bestFrames(n, keep, (i) => score[i]!, eligible)], `n ${n}, keep ${keep}`).toEqual(sorted.slice(0, keep));
      }
    }
  });
});

describe("the overshoot planned for the whole episode", () => {
  // Seeded (mulberry32: a plain LCG's consecutive draws are too correlated for tails): the same figures on every run.
  const generator = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  // Overshoots shaped like AAC 64k's on the bench's speech: the lower half spread under 0, the upper
  // half 0 plus an exponential with a 0.15 dB mean (its 99.9th percentile about 0.8 dB).
  const draw = (rnd: () => number) => () => (rnd() < 0.5 ? -0.3 * rnd() : -0.15 * Math.log(rnd()));

  it("expects the largest over the episode's hot frames, which grows with them, not only the largest heard", () => {
    const rnd = generator(11);
    const next = draw(rnd);
    const heard = Array.from({ length: 300 }, next);
    const largestHeard = Math.max(...heard);
    for (const frames of [3000, 37_000]) {
      // What a full encode meets: the mean of the largest of `frames` draws, over 40 episodes.
      let sum = 0;
      for (let e = 0; e < 40; e++) {
        let max = -Infinity;
        for (let i = 0; i < frames; i++) max = Math.max(max, next());
        sum += max;
      }
      const meanLargest = sum / 40;
      const expected = expectedOvershoot(heard, frames, () => -2.4);
      expect(expected, `${frames} hot frames`).toBeGreaterThan(largestHeard);
      expect(Math.abs(expected - meanLargest), `${frames} hot frames: expected ${expected}, mean largest ${meanLargest}`).toBeLessThan(0.2);
    }
    expect(expectedOvershoot(heard, 37_000, () => -2.4)).toBeGreaterThan(expectedOvershoot(heard, 3000, () => -2.4) + 0.2);
  });

  it("counts a frame under the loudest by its chance of still reaching it, and extrapolates nothing for an episode heard whole", () => {
    const next = draw(generator(5));
    const heard = Array.from({ length: 300 }, next);
    const top = expectedOvershoot(heard, 3000, () => -2);
    // 30 000 more frames 3 dB down (the quieter voice) hardly matter; 30 000 more at the top do.
    expect(expectedOvershoot(heard, 33_000, (i) => (i < 3000 ? -2 : -5))).toBeCloseTo(top, 1);
    expect(expectedOvershoot(heard, 33_000, () => -2)).toBeGreaterThan(top + 0.25);
    // No more hot frames than were heard: the largest heard stands.
    expect(expectedOvershoot(heard, 200, () => -2)).toBe(Math.max(...heard));
    expect(expectedOvershoot([], 37_000, () => -2)).toBe(0);
  });

  it("takes the overshoot at the frames within half a dB of the loudest fed peak, frame by frame", () => {
    const fed = new FramePeaks();
    const encoded = new FramePeaks();
    const rows = [
      [-2.4, -2.1], // hot: +0.3
      [-9, -3], // far under the loudest: an overshoot there meets no ceiling
      [-2.0, -2.2], // the loudest: -0.2
      [-2.5, -1.5], // hot: +1.0
      [-2.6, -2.0], // 0.6 under: not hot
    ];
    rows.forEach(([f, e], i) => {
      fed.push((i + 1) / 10, f!);
      encoded.push((i + 1) / 10, e!);
    });
    expect(hotFrameOvershoots(fed, encoded)).toEqual([0.3, -0.2, 1]);
  });
});
