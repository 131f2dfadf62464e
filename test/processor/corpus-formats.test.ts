/**
 * The corpus, second half: inputs whose channels, sample rate, codec or
 * container are the point (phone band, dead channel, 96 kHz float with DC and
 * hum, streaming WAV, 8 channels, a 10 MB cover, mu-law). The runner and every
 * check are in test/processor/corpus-run.ts; the first half is
 * corpus-dynamics.test.ts.
 */
import { describe } from "vitest";
import { FORMAT_INPUTS } from "./corpus-audio.ts";
import { corpusTests } from "./corpus-run.ts";

describe("corpus (formats): every realistic upload publishes on target", () => {
  corpusTests(FORMAT_INPUTS);
});
