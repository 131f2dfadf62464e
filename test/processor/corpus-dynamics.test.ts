/**
 * The corpus, first half: inputs whose level and dynamics are the point
 * (quiet, loud, peaky, levelled, clipped, silent stretches). The runner and
 * every check are in test/processor/corpus-run.ts; the other half is
 * corpus-formats.test.ts (vitest runs the two files side by side).
 */
import { describe, expect, it } from "vitest";
import { CORPUS_NAMES, DYNAMICS_INPUTS, FORMAT_INPUTS } from "./corpus-audio.ts";
import { corpusTests, measureFile } from "./corpus-run.ts";

describe("corpus (dynamics): every realistic upload publishes on target", () => {
  const { inputs } = corpusTests(DYNAMICS_INPUTS);

  it("has at least 12 kinds of input, each in one of the two files; this half's levels spread over -40..-8 LUFS", async () => {
    expect(CORPUS_NAMES.length).toBeGreaterThanOrEqual(12);
    expect([...DYNAMICS_INPUTS, ...FORMAT_INPUTS].sort()).toEqual([...CORPUS_NAMES].sort());
    const levels = await Promise.all(inputs().map(async (c) => (await measureFile(c.file)).integratedLufs));
    expect(Math.min(...levels)).toBeLessThanOrEqual(-38);
    expect(Math.max(...levels)).toBeGreaterThanOrEqual(-10);
  });
});
