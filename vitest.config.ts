import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take minutes (whole episodes through ffmpeg or the stack), longest first, as a full
 * run measured them on 2 cores (recovery ~170 s, each corpus half ~120 s, stages ~140 s, upload
 * resume ~80 s). A fresh checkout has no timings cached, and vitest then starts the largest files
 * by bytes first: the small corpus files came last and ran alone, ~4 minutes of one busy worker.
 * Started first, the two workers end together. Corpus halves are kept apart (both are CPU-bound).
 */
const FIRST = [
  "test/processor/corpus-dynamics.test.ts",
  "test/e2e/recovery.test.ts",
  "test/processor/corpus-formats.test.ts",
  "test/processor/stages.test.ts",
  "test/edge/upload-resume.test.ts",
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = FIRST.findIndex((f) => spec.moduleId.endsWith(f));
      return i === -1 ? FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep vitest's own order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests start real workerd and ffmpeg processes: generous, but bounded.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: ffmpeg-heavy files must not all run at once.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
  },
});
