/**
 * Entry point: `node --max-semi-space-size=2 processor/main.ts` (Node 22) or
 * `deno run -A --v8-flags=--max-semi-space-size=2 processor/main.ts`; the flag
 * keeps memory flat with the episode's length (v8-flags.ts). Settings:
 * processor/config.ts.
 */
import { tmpdir } from "node:os";
import process from "node:process";
import { describeConfig, loadConfig, type ProcessorConfig } from "./config.ts";
import { missingTools, ToolsMissing } from "./media/tools.ts";
import { stageHoldDir } from "./stage-hold.ts";

let config: ProcessorConfig;
let holdDir: string | undefined;
try {
  config = loadConfig(process.env, tmpdir());
  holdDir = stageHoldDir(process.env);
} catch (err) {
  console.error(`processor: ${(err as Error).message}`);
  process.exit(2);
}

// Before loading the service (the AWS SDK and OpenTelemetry take seconds to
// import): a machine without ffmpeg should hear so at once.
const missing = await missingTools({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath });
if (missing.length) {
  console.error(`processor: ${new ToolsMissing(missing).message}`);
  process.exit(3);
}

try {
  const { startProcessor } = await import("./service.ts");
  const running = await startProcessor(config, { stageHoldDir: holdDir });
  console.log(`processor listening on ${running.url}`, JSON.stringify(describeConfig(config)));
  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    console.log(`processor: ${signal}: no new jobs; waiting for ${running.app.inFlight} running job(s)`);
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
} catch (err) {
  if (err instanceof ToolsMissing) {
    console.error(`processor: ${err.message}`);
    process.exit(3);
  }
  console.error(`processor failed to start: ${(err as Error).message}`);
  process.exit(1);
}
