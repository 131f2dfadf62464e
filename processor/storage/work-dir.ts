/**
 * WORK_DIR holds one folder per running job (`<episodeId>-<random>`, see
 * processor/job.ts), each removed when its job ends. A killed processor
 * cannot remove its own: at start-up, before any job, nothing in there
 * belongs to a live run, so every job folder goes (an hour of WAV leaves
 * ~600 MB: the source plus partial renditions).
 */
import { readdir, rm } from "node:fs/promises";
import path from "node:path";

/** Job folders are named after their episode id plus mkdtemp's suffix; other files are left alone. */
const JOB_FOLDER = /^[A-Za-z0-9_-]{1,64}-[A-Za-z0-9]{6}$/;

export async function removeJobFolders(workDir: string): Promise<string[]> {
  const entries = await readdir(workDir, { withFileTypes: true }).catch(() => []);
  const folders = entries.filter((e) => e.isDirectory() && JOB_FOLDER.test(e.name)).map((e) => path.join(workDir, e.name));
  await Promise.all(folders.map((f) => rm(f, { recursive: true, force: true })));
  return folders;
}
