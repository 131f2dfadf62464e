/**
 * The show's fields as an admin or the show's creator sends them (POST and
 * PATCH /podcasts): every rule in one place, each message naming its field.
 */
import type { LoudnessTarget, Podcast } from "../../shared/podcast.ts";
import { categoryProblem, MAX_CATEGORIES } from "../../shared/apple-categories.ts";
import { canonicalLanguage, LANGUAGE_RULE } from "../../shared/language.ts";
import { isHttpUrl } from "../../shared/episode-details.ts";

/** What may be set on a show. `null` in a PATCH clears an optional field. */
export type PodcastFields = Partial<
  Pick<
    Podcast,
    | "title"
    | "author"
    | "description"
    | "language"
    | "categories"
    | "explicit"
    | "artworkUrl"
    | "link"
    | "ownerEmail"
    | "type"
    | "locked"
    | "copyright"
    | "complete"
    | "funding"
    | "newFeedUrl"
  >
> & { loudness?: Partial<LoudnessTarget> };

const REQUIRED = ["title", "author", "description", "language", "categories"] as const;
const OPTIONAL = ["artworkUrl", "link", "ownerEmail", "copyright", "funding", "newFeedUrl"] as const;
/** Fields that have a default rather than an absent state: null resets them. */
const DEFAULTED = { explicit: false, type: "episodic", locked: false, complete: false } as const;
const KNOWN = new Set<string>([...REQUIRED, ...OPTIONAL, ...Object.keys(DEFAULTED), "category", "loudness"]);

export const PODCAST_LIMITS = {
  title: 300,
  author: 300,
  descriptionBytes: 4000,
  copyright: 500,
  url: 2048,
  email: 254,
  funding: 10,
  fundingText: 128,
} as const;

export class PodcastFieldError extends Error {}

const bytes = (s: string) => new TextEncoder().encode(s).length;

/**
 * Validates a POST (every required field) or a PATCH (only what is sent).
 * Returns the fields to store: absent keys untouched, keys mapped to
 * undefined cleared. Throws PodcastFieldError naming the field.
 */
export function validatePodcastFields(body: unknown, mode: "create" | "patch"): PodcastFields {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new PodcastFieldError("body must be a JSON object");
  const b = { ...(body as Record<string, unknown>) };
  const fail = (field: string, rule: string): never => {
    throw new PodcastFieldError(`${field} ${rule}`);
  };
  const unknown = Object.keys(b).filter((k) => !KNOWN.has(k) && k !== "podcastId");
  if (unknown.length > 0) fail(unknown[0]!, "is not a field of a show");
  // `category` is the one-category spelling of `categories`.
  if (b.category !== undefined) {
    if (b.categories !== undefined) fail("category", "and categories cannot both be sent");
    b.categories = b.category === null ? null : [b.category];
  }
  const out: Record<string, unknown> = {};
  const has = (k: string) => Object.hasOwn(b, k) && b[k] !== undefined;

  for (const k of REQUIRED) {
    const empty = b[k] === undefined || b[k] === null || b[k] === "";
    const name = k === "categories" && b.category !== undefined ? "category" : k;
    if (mode === "create" && empty) fail(k === "categories" && b.categories === undefined ? "category" : name, "is required");
    if (mode === "patch" && Object.hasOwn(b, k) && empty) fail(name, "is required and cannot be cleared");
  }
  const text = (k: string, max: number, unit: "characters" | "bytes" = "characters") => {
    if (!has(k)) return;
    if (b[k] === null) {
      out[k] = undefined; // required fields never get here: refused above
      return;
    }
    const v = b[k];
    if (typeof v !== "string") fail(k, "must be a string");
    const s = (v as string).trim();
    if (s === "") fail(k, "must not be empty");
    if ((unit === "bytes" ? bytes(s) : s.length) > max) fail(k, `must be at most ${max} ${unit}${unit === "bytes" ? " (UTF-8)" : ""}`);
    out[k] = s;
  };
  text("title", PODCAST_LIMITS.title);
  text("author", PODCAST_LIMITS.author);
  text("description", PODCAST_LIMITS.descriptionBytes, "bytes");
  text("copyright", PODCAST_LIMITS.copyright);

  if (has("language")) {
    const lang = typeof b.language === "string" ? canonicalLanguage(b.language) : undefined;
    if (!lang) fail("language", `must be ${LANGUAGE_RULE}`);
    out.language = lang;
  }
  if (has("categories") && b.categories !== null) {
    const list = b.categories;
    if (!Array.isArray(list) || list.length === 0) fail("categories", "must be a list of 1 to 3 Apple Podcasts categories");
    if ((list as unknown[]).length > MAX_CATEGORIES) fail("categories", `may list at most ${MAX_CATEGORIES} categories`);
    const cleaned = (list as unknown[]).map((c, i) => {
      const name = b.category !== undefined ? "category" : `categories[${i}]`;
      if (typeof c !== "string") return fail(name, 'must be a string such as "Technology" or "Society & Culture > Documentary"');
      const problem = categoryProblem(c);
      if (problem) fail(name, problem);
      return c
        .split(">")
        .map((s) => s.trim())
        .join(" > ");
    });
    if (new Set(cleaned).size !== cleaned.length) fail("categories", "lists a category twice");
    out.categories = cleaned;
  }
  for (const k of ["artworkUrl", "link", "newFeedUrl"] as const) {
    if (!has(k)) continue;
    if (b[k] === null) {
      out[k] = undefined;
      continue;
    }
    if (typeof b[k] !== "string" || !isHttpUrl(b[k] as string)) fail(k, "must be an http(s) URL");
    if ((b[k] as string).length > PODCAST_LIMITS.url) fail(k, `must be at most ${PODCAST_LIMITS.url} characters`);
    out[k] = b[k];
  }
  if (has("ownerEmail")) {
    if (b.ownerEmail === null) out.ownerEmail = undefined;
    // Deliberately loose (directories check it by sending mail): one @, a dot in the domain, nothing XML or space-like.
    else if (
      typeof b.ownerEmail !== "string" ||
      b.ownerEmail.length > PODCAST_LIMITS.email ||
      !/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>".]+$/.test(b.ownerEmail)
    ) {
      fail("ownerEmail", "must be an e-mail address such as host@example.com");
    } else out.ownerEmail = b.ownerEmail;
  }
  for (const k of ["explicit", "locked", "complete"] as const) {
    if (!has(k)) continue;
    if (b[k] === null) out[k] = DEFAULTED[k];
    else if (typeof b[k] !== "boolean") fail(k, "must be true or false");
    else out[k] = b[k];
  }
  if (has("type")) {
    const v = b.type === null ? "episodic" : b.type;
    if (v !== "episodic" && v !== "serial") fail("type", "must be episodic or serial");
    out.type = v;
  }
  if (has("funding")) {
    if (b.funding === null) out.funding = undefined;
    else {
      if (!Array.isArray(b.funding)) fail("funding", 'must be a list of {"url", "text"}');
      if ((b.funding as unknown[]).length > PODCAST_LIMITS.funding) fail("funding", `may list at most ${PODCAST_LIMITS.funding} links`);
      out.funding = (b.funding as unknown[]).map((f, i) => {
        const item = f as Record<string, unknown> | null;
        if (!item || typeof item !== "object") return fail(`funding[${i}]`, 'must be {"url", "text"}');
        if (typeof item.url !== "string" || !isHttpUrl(item.url)) fail(`funding[${i}].url`, "must be an http(s) URL");
        if (typeof item.text !== "string" || item.text.trim() === "") fail(`funding[${i}].text`, "is required");
        if ((item.text as string).trim().length > PODCAST_LIMITS.fundingText)
          fail(`funding[${i}].text`, `must be at most ${PODCAST_LIMITS.fundingText} characters`);
        return { url: item.url as string, text: (item.text as string).trim() };
      });
    }
  }
  if (has("loudness")) {
    const loudness = b.loudness as Record<string, unknown> | null;
    if (typeof loudness !== "object" || loudness === null || Array.isArray(loudness)) fail("loudness", "must be an object");
    const { integratedLufs: i, truePeakDbtp: tp } = loudness!;
    if (i !== undefined && (typeof i !== "number" || i < -36 || i > -10))
      fail("loudness.integratedLufs", "must be a number from -36 to -10");
    if (tp !== undefined && (typeof tp !== "number" || tp < -9 || tp > 0)) fail("loudness.truePeakDbtp", "must be a number from -9 to 0");
    out.loudness = { ...(i !== undefined && { integratedLufs: i }), ...(tp !== undefined && { truePeakDbtp: tp }) };
  }
  return out as PodcastFields;
}

/** Applies validated fields to a record: undefined values clear, absent keys stay. */
export function applyPodcastFields(p: Podcast, fields: PodcastFields): Podcast {
  const next: Record<string, unknown> = { ...p };
  for (const [k, v] of Object.entries(fields)) {
    if (k === "loudness") next.loudness = { ...p.loudness, ...(v as object) };
    else if (v === undefined) delete next[k];
    else next[k] = v;
  }
  if (fields.categories) next.category = fields.categories[0];
  return next as unknown as Podcast;
}

/** What the show still lacks for Apple and PSP-1: said in every answer, never blocking. */
export function podcastWarnings(p: Podcast): string[] {
  const out: string[] = [];
  if (!p.artworkUrl) out.push("artworkUrl is not set: Apple Podcasts refuses a feed without 1400-3000 px square artwork");
  if (!p.link) out.push("link is not set: PSP-1 and Apple expect the show's website in <link>");
  if (!p.ownerEmail) out.push("ownerEmail is not set: directories (Spotify, Apple) verify ownership by e-mail");
  return out;
}
