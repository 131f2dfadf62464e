/**
 * Where the uploader remembers unfinished uploads, so running the same
 * command again resumes: tus-js-client's FileUrlStorage (a JSON file, locked
 * while written) keyed by its fingerprint of the file (absolute path, size,
 * modification time) and the edge's URL. Holds upload URLs, never tokens.
 */
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import * as tus from "tus-js-client";
import type { UrlStorage } from "tus-js-client";

// Exported by tus-js-client's Node build, missing from its type definitions.
const { FileUrlStorage } = tus as unknown as { FileUrlStorage: new (file: string) => UrlStorage };

/** PODCAST_PIPELINE_STATE_DIR, else $XDG_STATE_HOME/podcast-pipeline, else ~/.local/state/podcast-pipeline. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PODCAST_PIPELINE_STATE_DIR) return env.PODCAST_PIPELINE_STATE_DIR;
  const base = env.XDG_STATE_HOME || path.join(homedir(), ".local", "state");
  return path.join(base, "podcast-pipeline");
}

export function resumeStore(env: NodeJS.ProcessEnv = process.env): { storage: UrlStorage; file: string } {
  const dir = stateDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, "uploads.json");
  return { storage: new FileUrlStorage(file), file };
}
