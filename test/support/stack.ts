/** One local stack per test file, in a fresh data folder that is removed afterwards. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startLocalStack, type LocalStack, type StackOptions } from "../../local/stack.ts";
import { createPodcast as createShow, type CreatedPodcast } from "../../local/admin.ts";

export async function startTestStack(opts: Partial<StackOptions> = {}): Promise<LocalStack & { cleanup(): Promise<void> }> {
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), "podcast-stack-")));
  const stack = await startLocalStack({ processor: false, ...opts, dataDir });
  return {
    ...stack,
    async cleanup() {
      await stack.stop();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type { CreatedPodcast };

/** Creates a podcast through the real admin API. */
export function createPodcast(
  stack: Pick<LocalStack, "edgeUrl" | "adminToken">,
  overrides: Record<string, unknown> = {},
): Promise<CreatedPodcast> {
  return createShow(stack, { title: "The Test Show", author: "Test Author", description: "A show made by the test suite.", ...overrides });
}
