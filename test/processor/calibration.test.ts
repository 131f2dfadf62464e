/**
 * Where calibration listens (processor/stages/calibration.ts excerptStarts),
 * on an episode as long as the processor accepts: a pure function of the
 * mastered signal's 100 ms frames, so the frames are written here.
 */
import { describe, expect, it } from "vitest";
import { FramePeaks } from "../../processor/media/loudness.ts";
import { bestFrames, excerptStarts } from "../../processor/stages/calibration.ts";

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
