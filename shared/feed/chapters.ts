import type { Chapter } from "../episode.ts";
import { xmlSafe } from "./xml.ts";

/** Podcasting 2.0 JSON chapters version written and accepted. */
export const CHAPTERS_VERSION = "1.2.0";

export const CHAPTER_LIMITS = {
  maxChapters: 500,
  maxTitleLength: 200,
  maxUrlLength: 2048,
} as const;

/**
 * The JSON chapters file (`application/json+chapters`) for podcast:chapters.
 * Chapters are written in start order; times are rounded to milliseconds.
 */
export function renderChaptersJson(chapters: readonly Chapter[]): string {
  const ordered = [...chapters].sort((a, b) => a.startTime - b.startTime);
  return `${JSON.stringify(
    {
      version: CHAPTERS_VERSION,
      chapters: ordered.map((c) => ({
        startTime: milliseconds(c.startTime),
        title: c.title,
        ...(c.endTime !== undefined && { endTime: milliseconds(c.endTime) }),
        ...(c.url !== undefined && { url: c.url }),
        ...(c.img !== undefined && { img: c.img }),
      })),
    },
    null,
    2,
  )}\n`;
}

function milliseconds(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** A creator's chapter list was refused; the message says which chapter and why. */
export class InvalidChaptersError extends Error {
  override name = "InvalidChaptersError";
}

/**
 * Checks chapters supplied by a creator: either an array of
 * `{startTime, title, endTime?, url?, img?}` or a JSON chapters document
 * `{version, chapters: [...]}`. Start times are seconds, non-negative, strictly
 * increasing and (when the duration is known) inside the episode.
 */
export function parseChapters(value: unknown, options: { durationSeconds?: number } = {}): Chapter[] {
  const fail = (message: string): never => {
    throw new InvalidChaptersError(`invalid chapters: ${message}`);
  };
  const list = Array.isArray(value)
    ? value
    : value && typeof value === "object" && Array.isArray((value as { chapters?: unknown }).chapters)
      ? (value as { chapters: unknown[] }).chapters
      : fail("expected an array of chapters or an object with a chapters array");
  if (list.length === 0) fail("no chapters");
  if (list.length > CHAPTER_LIMITS.maxChapters) fail(`${list.length} chapters, at most ${CHAPTER_LIMITS.maxChapters} allowed`);

  const { durationSeconds } = options;
  const chapters: Chapter[] = [];
  for (const [index, raw] of list.entries()) {
    const n = index + 1;
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) return fail(`chapter ${n} is not an object`);
    const c = raw as Record<string, unknown>;
    const startTime = c.startTime;
    if (typeof startTime !== "number" || !Number.isFinite(startTime) || startTime < 0) {
      return fail(`chapter ${n} startTime must be a number of seconds >= 0`);
    }
    if (durationSeconds !== undefined && startTime >= durationSeconds) {
      fail(`chapter ${n} starts at ${startTime}s, after the end of the episode (${durationSeconds}s)`);
    }
    const previous = chapters[chapters.length - 1];
    if (previous && startTime <= previous.startTime) {
      fail(`chapter ${n} starts at ${startTime}s, not after chapter ${n - 1} (${previous.startTime}s): chapters must be in order`);
    }
    if (typeof c.title !== "string") return fail(`chapter ${n} title must be a string`);
    // Titles end up in players' UIs: no control characters, no surrounding or repeated whitespace.
    const title = xmlSafe(c.title)
      .replace(/[\t\n\r]+/g, " ")
      .replace(/ {2,}/g, " ")
      .trim();
    if (title === "") fail(`chapter ${n} has an empty title`);
    if (title.length > CHAPTER_LIMITS.maxTitleLength) {
      fail(`chapter ${n} title is ${title.length} characters, at most ${CHAPTER_LIMITS.maxTitleLength} allowed`);
    }
    const chapter: Chapter = { startTime, title };
    if (c.endTime !== undefined) {
      const endTime = c.endTime;
      if (typeof endTime !== "number" || !Number.isFinite(endTime) || endTime <= startTime) {
        fail(`chapter ${n} endTime must be a number of seconds after its startTime`);
      }
      if (durationSeconds !== undefined && (endTime as number) > durationSeconds) {
        fail(`chapter ${n} ends at ${endTime as number}s, after the end of the episode (${durationSeconds}s)`);
      }
      chapter.endTime = endTime as number;
    }
    for (const field of ["url", "img"] as const) {
      if (c[field] === undefined) continue;
      chapter[field] = webUrl(c[field], `chapter ${n} ${field}`, fail);
    }
    chapters.push(chapter);
  }
  return chapters;
}

function webUrl(value: unknown, what: string, fail: (message: string) => never): string {
  if (typeof value !== "string") return fail(`${what} must be a string`);
  if (value.length > CHAPTER_LIMITS.maxUrlLength) return fail(`${what} is longer than ${CHAPTER_LIMITS.maxUrlLength} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(`${what} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") fail(`${what} must be an http(s) URL`);
  return url.href;
}
