/** One local stack per test file, in a fresh data folder that is removed afterwards. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startLocalStack, type LocalStack, type StackOptions } from "../../local/stack.ts";

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

export interface CreatedPodcast {
  podcastId: string;
  uploadToken: string;
  feedUrl: string;
}

/** Creates a podcast through the real admin API. */
export async function createPodcast(
  stack: Pick<LocalStack, "edgeUrl" | "adminToken">,
  overrides: Record<string, unknown> = {},
): Promise<CreatedPodcast> {
  const res = await fetch(`${stack.edgeUrl}/podcasts`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      title: "The Test Show",
      author: "Test Author",
      description: "A show made by the test suite.",
      language: "en",
      category: "Technology",
      explicit: false,
      ...overrides,
    }),
  });
  if (res.status !== 201) throw new Error(`create podcast: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedPodcast;
}
