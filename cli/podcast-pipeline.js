#!/usr/bin/env node
// The `podcast-pipeline` command (package.json "bin"). The CLI is TypeScript run by Node's type
// stripping (Node >= 22.18 by default): an older system Node hands over to the Node 22 this
// package installs (node_modules/.bin/node), with the terminal, arguments and exit code passed through.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.ts", import.meta.url));
if (process.features.typescript) {
  await import(main);
} else {
  const node = fileURLToPath(new URL("../node_modules/.bin/node", import.meta.url));
  if (!existsSync(node)) {
    console.error("podcast-pipeline: needs Node >= 22.18 (or run npm install in the project for its own Node 22)");
    process.exit(1);
  }
  const child = spawn(node, [main, ...process.argv.slice(2)], { stdio: "inherit" });
  // Ctrl-C reaches the child through the terminal's process group; other signals are passed on.
  for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  process.on("SIGINT", () => {});
  // Killed by a signal: the shell's convention, 128 + its number (130 for SIGINT, 137 for SIGKILL).
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}
