/**
 * An ObjectStore on a local folder: one file per key (plus a `.meta.json`
 * sidecar with its content type). Used by the bench to run the real pipeline
 * without R2; a "download" hard-links when it can, so no transfer time is
 * counted that production would spend on the network instead.
 */
import { createHash } from "node:crypto";
import { copyFile, link, mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ObjectStore, PutOptions, WriteCondition } from "./object-store.ts";

export class FolderStore implements ObjectStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  private file(key: string): string {
    if (key.split("/").some((p) => p === ".." || p === "")) throw new Error(`invalid key ${key}`);
    return path.join(this.root, ...key.split("/"));
  }

  private async write(key: string, body: string | Buffer, contentType: string): Promise<void> {
    const f = this.file(key);
    await mkdir(path.dirname(f), { recursive: true });
    await writeFile(f, body);
    await writeFile(`${f}.meta.json`, JSON.stringify({ contentType }));
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.file(key), "utf8")) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  putJson(key: string, value: unknown): Promise<void> {
    return this.write(key, JSON.stringify(value), "application/json");
  }

  putText(key: string, body: string, opts: PutOptions): Promise<void> {
    return this.write(key, body, opts.contentType);
  }

  /** The content's hash is the version (one writer at a time here: conditions are checked, not atomically). */
  async version(key: string): Promise<string | undefined> {
    try {
      return createHash("sha256")
        .update(await readFile(this.file(key)))
        .digest("hex");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async putTextIf(key: string, body: string, opts: PutOptions, version: string): Promise<boolean> {
    if ((await this.version(key)) !== version) return false;
    await this.putText(key, body, opts);
    return true;
  }

  async download(key: string, file: string): Promise<number> {
    await rm(file, { force: true });
    await link(this.file(key), file).catch(() => copyFile(this.file(key), file));
    return (await stat(file)).size;
  }

  async upload(key: string, file: string, opts: PutOptions): Promise<number> {
    const f = this.file(key);
    await mkdir(path.dirname(f), { recursive: true });
    await rm(f, { force: true });
    await copyFile(file, f);
    await writeFile(`${f}.meta.json`, JSON.stringify({ contentType: opts.contentType }));
    return (await stat(f)).size;
  }

  async listKeys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, rel: string) => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(path.join(dir, e.name), key);
        else if (!e.name.endsWith(".meta.json") && key.startsWith(prefix)) out.push(key);
      }
    };
    await walk(this.root, "");
    return out.sort();
  }

  /** The bench runs one job at a time: the version is the content itself; conditions are checked, not atomically. */
  async getJsonVersion<T>(key: string): Promise<{ value: T; etag: string } | undefined> {
    try {
      const text = await readFile(this.file(key), "utf8");
      return { value: JSON.parse(text) as T, etag: `${String(text.length)}:${text.slice(-32)}` };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async putJsonIf(key: string, value: unknown, condition: WriteCondition): Promise<string | undefined> {
    const current = await this.getJsonVersion(key);
    if ("ifNoneMatch" in condition ? current : current?.etag !== condition.ifMatch) return undefined;
    await this.putJson(key, value);
    return (await this.getJsonVersion(key))!.etag;
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
    await rm(`${this.file(key)}.meta.json`, { force: true });
  }
}
