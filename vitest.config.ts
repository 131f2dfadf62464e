import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests start real workerd and ffmpeg processes: generous, but bounded.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: ffmpeg-heavy files must not all run at once.
    maxWorkers: 2,
  },
});
