/**
 * TEST-ONLY: PROCESSOR_TEST_HOLD_DIR lets a test stop a run at the end of a
 * named stage, so it can kill -9 the processor there without racing a
 * stage that lasts milliseconds (test/e2e/recovery.test.ts). Refused when
 * NODE_ENV=production (the Container's Dockerfile sets it).
 *
 * A file `<dir>/<episodeId>` holding a stage name arms a hold for that
 * episode. The run then waits just before it records leaving that stage:
 * before the record says the next stage, or, for distribute, before it says
 * published (its public files, feed entry and feed already written). The
 * stage's work is done, the record still names it and the lease keeps being
 * renewed. While waiting, `<dir>/<episodeId>.held` names the stage; removing
 * the arming file lets the run go on.
 *
 * It wraps the object store rather than the pipeline, so the runner and the
 * stages are the production code unchanged.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Episode } from "../shared/episode.ts";
import { keys } from "../shared/storage-keys.ts";
import { STAGES, type StageName } from "../shared/telemetry.ts";
import type { ObjectStore } from "./storage/object-store.ts";

export const HOLD_DIR_SETTING = "PROCESSOR_TEST_HOLD_DIR";

/** The hold folder from the environment, or undefined; throws in a production configuration. */
export function stageHoldDir(env: Record<string, string | undefined>): string | undefined {
  const dir = env[HOLD_DIR_SETTING];
  if (!dir) return undefined;
  if (env.NODE_ENV === "production") throw new Error(`${HOLD_DIR_SETTING} is a test-only setting and is refused with NODE_ENV=production`);
  return dir;
}

/** The stage a record write leaves, if it is the step from one stage to the next (or to published). */
function stageLeft(record: Episode): StageName | undefined {
  if (record.state === "published") return "distribute";
  if (record.state !== "processing" || !record.stage) return undefined;
  const i = STAGES.indexOf(record.stage);
  return i > 0 ? STAGES[i - 1] : undefined;
}

const armedStage = async (file: string) => (await readFile(file, "utf8").catch(() => "")).trim();

/** `store`, with every episode-record write checked against the hold folder first. */
export function withStageHolds<S extends ObjectStore>(store: S, dir: string): S {
  const putJson = store.putJson.bind(store);
  const episodeKey = /^state\/episodes\/([^/]+)\.json$/;
  store.putJson = async (key, value, cacheControl) => {
    const id = episodeKey.exec(key)?.[1];
    const left = id && key === keys.episode(id) ? stageLeft(value as Episode) : undefined;
    if (id && left) {
      const armed = path.join(dir, id);
      if ((await armedStage(armed)) === left) {
        await writeFile(`${armed}.held`, left);
        console.log(`processor: TEST HOLD: episode ${id} held at the end of ${left}`);
        while ((await armedStage(armed)) === left) await new Promise((r) => setTimeout(r, 100));
      }
    }
    return putJson(key, value, cacheControl);
  };
  return store;
}
