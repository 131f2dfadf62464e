// The processor as an operator starts it: a real `node processor/main.ts`
// process, checked for what it says and its exit code when it cannot work.
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import path from "node:path";
import { freePort, ROOT } from "../../local/stack.ts";

async function startProcessor(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const port = String(await freePort());
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "node_modules/.bin/node"), [path.join(ROOT, "processor/main.ts")], {
      env: {
        PATH: process.env.PATH,
        PORT: port,
        R2_S3_ENDPOINT: "http://127.0.0.1:9/unused",
        R2_BUCKET: "podcast-media",
        R2_ACCESS_KEY_ID: "id",
        R2_SECRET_ACCESS_KEY: "very-secret-key-value",
        PUBLIC_BASE_URL: "http://127.0.0.1:9",
        JOB_SIGNING_SECRET: "startup-test-signing-secret-0123456789",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("processor startup", () => {
  it("exits at once, naming ffmpeg and how to install it, when ffmpeg is missing", async () => {
    const { code, output } = await startProcessor({ FFMPEG_PATH: "/nonexistent/ffmpeg" });
    expect(code).not.toBe(0);
    expect(output).toContain("ffmpeg");
    expect(output).toMatch(/apt-get install ffmpeg/);
    expect(output).not.toContain("very-secret-key-value");
  });

  it("exits at once, naming ffprobe, when ffprobe is missing", async () => {
    const { code, output } = await startProcessor({ FFPROBE_PATH: "/nonexistent/ffprobe" });
    expect(code).not.toBe(0);
    expect(output).toContain("ffprobe");
  });

  it("exits with the name of a missing required setting", async () => {
    const { code, output } = await startProcessor({ R2_S3_ENDPOINT: "" });
    expect(code).toBe(2);
    expect(output).toContain("R2_S3_ENDPOINT");
  });

  it("refuses the test-only stage hold in a production configuration", async () => {
    const { code, output } = await startProcessor({ NODE_ENV: "production", PROCESSOR_TEST_HOLD_DIR: "/tmp/holds" });
    expect(code).toBe(2);
    expect(output).toContain("PROCESSOR_TEST_HOLD_DIR is a test-only setting");
  });
});
