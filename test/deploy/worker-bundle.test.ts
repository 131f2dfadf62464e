// The production build of the edge Worker, as `wrangler deploy` makes it
// (dry run: Cloudflare's network cannot be reached from here, and the
// Container image needs Docker, so its rollout is skipped).
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "../../local/stack.ts";

const run = promisify(execFile);

describe("production Worker bundle", () => {
  it("builds with every binding and stays well inside the Worker size limit", async () => {
    const out = await mkdtemp(path.join(tmpdir(), "worker-bundle-"));
    try {
      const { stdout } = await run(
        path.join(ROOT, "node_modules/.bin/wrangler"),
        ["deploy", "--dry-run", "--containers-rollout=none", "--outdir", out, "--config", path.join(ROOT, "wrangler.toml")],
        {
          cwd: ROOT,
          env: { ...process.env, PATH: `${path.join(ROOT, "node_modules/.bin")}:${process.env.PATH}`, WRANGLER_SEND_METRICS: "false" },
        },
      );
      for (const binding of [
        "env.UPLOADS (EpisodeUpload)",
        "env.PROCESSOR (ProcessorContainer)",
        "env.JOBS (episode-jobs)",
        "env.MEDIA (podcast-media)",
      ]) {
        expect(stdout).toContain(binding);
      }
      expect(stdout).toContain('env.DISPATCH_MODE ("container")');
      expect(stdout).toMatch(/podcast-edge-processorcontainer \(.*processor\/Dockerfile\)/);
      const bundle = await readFile(path.join(out, "index.js"));
      // Free plan: 3 MB compressed. Keep far below it.
      expect(gzipSync(bundle).length).toBeLessThan(1024 * 1024);
      expect((await stat(path.join(out, "index.js"))).size).toBeGreaterThan(10_000);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
