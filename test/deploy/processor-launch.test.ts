// The processor's V8 flags (processor/v8-flags.ts) are written out by hand where TypeScript
// cannot import them: the Container image's CMD and the npm script. Without them its memory
// grows with the episode's length again (README bench run 8), so each launcher is checked here.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../local/stack.ts";
import { PROCESSOR_V8_FLAGS } from "../../processor/v8-flags.ts";

describe("the processor's launchers", () => {
  it("the Container image's CMD runs main.ts with the V8 flags", async () => {
    const dockerfile = await readFile(path.join(ROOT, "processor/Dockerfile"), "utf8");
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? "[]") as string[];
    expect(cmd).toEqual(["node", ...PROCESSOR_V8_FLAGS, "processor/main.ts"]);
  });

  it("`npm run processor` runs main.ts with the V8 flags", async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.processor).toBe(["node", ...PROCESSOR_V8_FLAGS, "processor/main.ts"].join(" "));
  });
});
