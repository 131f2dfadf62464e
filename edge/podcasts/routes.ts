import { Hono } from "hono";
import type { Env } from "../env.ts";
import { DEFAULT_LOUDNESS, publicPodcast, type LoudnessTarget, type Podcast } from "../../shared/podcast.ts";
import { publicPaths, publicUrl } from "../../shared/storage-keys.ts";
import { podcastGuid } from "../../shared/feed/podcast-guid.ts";
import { requireAdmin, sha256Hex } from "./auth.ts";
import { readPodcast, writePodcast } from "./store.ts";

/** Admin API for shows: `POST /podcasts` creates one and returns its upload token, once. */
export const podcastRoutes = new Hono<{ Bindings: Env }>();

podcastRoutes.use("*", requireAdmin);

type Field = { name: keyof PodcastInput; max: number; required: boolean };
/** What an admin sends: the show's public fields, and optionally its loudness target. */
type PodcastInput = Pick<Podcast, "title" | "author" | "description" | "language" | "category" | "explicit" | "artworkUrl" | "link" | "ownerEmail"> & {
  loudness?: Partial<LoudnessTarget>;
};

const TEXT_FIELDS: Field[] = [
  { name: "title", max: 300, required: true },
  { name: "author", max: 300, required: true },
  { name: "description", max: 4000, required: true },
  { name: "language", max: 35, required: true },
  { name: "category", max: 100, required: true },
  { name: "artworkUrl", max: 2048, required: false },
  { name: "link", max: 2048, required: false },
  { name: "ownerEmail", max: 254, required: false },
];

/** Returns the validated podcast fields or a message naming the first bad field. */
export function validatePodcastInput(body: unknown): PodcastInput | string {
  if (!body || typeof body !== "object" || Array.isArray(body)) return "body must be a JSON object";
  const b = body as Record<string, unknown>;
  for (const f of TEXT_FIELDS) {
    const v = b[f.name];
    if (v === undefined || v === null || v === "") {
      if (f.required) return `${f.name} is required`;
      continue;
    }
    if (typeof v !== "string") return `${f.name} must be a string`;
    if (v.length > f.max) return `${f.name} must be at most ${f.max} characters`;
  }
  if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(b.language as string)) return "language must be a BCP 47 tag such as en or en-GB";
  for (const f of ["artworkUrl", "link"] as const) {
    const v = b[f];
    if (typeof v === "string" && v !== "" && !/^https?:\/\//.test(v)) return `${f} must be an http(s) URL`;
  }
  // Deliberately loose (directories check it by sending mail): one @, a dot in the domain, nothing XML or space-like.
  if (typeof b.ownerEmail === "string" && b.ownerEmail !== "" && !/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>".]+$/.test(b.ownerEmail)) {
    return "ownerEmail must be an e-mail address such as host@example.com";
  }
  if (b.explicit !== undefined && typeof b.explicit !== "boolean") return "explicit must be true or false";
  const loudness = b.loudness as Record<string, unknown> | undefined;
  if (loudness !== undefined) {
    if (typeof loudness !== "object" || loudness === null) return "loudness must be an object";
    const { integratedLufs: i, truePeakDbtp: tp } = loudness;
    if (i !== undefined && (typeof i !== "number" || i < -36 || i > -10)) return "loudness.integratedLufs must be a number from -36 to -10";
    if (tp !== undefined && (typeof tp !== "number" || tp < -9 || tp > 0)) return "loudness.truePeakDbtp must be a number from -9 to 0";
  }
  return { ...(b as unknown as PodcastInput), explicit: b.explicit === true };
}

function randomToken(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

podcastRoutes.post("/", async (c) => {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return c.json({ error: "body must be JSON" }, 400);
  }
  const input = validatePodcastInput(body);
  if (typeof input === "string") return c.json({ error: input }, 400);

  const podcastId = crypto.randomUUID();
  const feedUrl = publicUrl(c.env.PUBLIC_BASE_URL, publicPaths.feed(podcastId));
  const uploadToken = `pp_${podcastId}_${randomToken(32)}`;
  const podcast: Podcast = {
    podcastId,
    title: input.title,
    author: input.author,
    description: input.description,
    language: input.language,
    category: input.category,
    explicit: input.explicit,
    ...(input.artworkUrl ? { artworkUrl: input.artworkUrl } : {}),
    ...(input.link ? { link: input.link } : {}),
    ...(input.ownerEmail ? { ownerEmail: input.ownerEmail } : {}),
    loudness: { ...DEFAULT_LOUDNESS, ...input.loudness },
    guid: podcastGuid(feedUrl),
    uploadTokenSha256: await sha256Hex(uploadToken),
    createdAt: new Date().toISOString(),
  };
  await writePodcast(c.env.MEDIA, podcast);
  // The token is returned exactly once; only its hash is stored.
  return c.json({ podcastId, uploadToken, feedUrl, podcast: publicPodcast(podcast) }, 201);
});

podcastRoutes.get("/:podcastId", async (c) => {
  const id = c.req.param("podcastId");
  const podcast = /^[A-Za-z0-9-]{1,64}$/.test(id) ? await readPodcast(c.env.MEDIA, id) : null;
  if (!podcast) return c.json({ error: "podcast not found" }, 404);
  return c.json({ ...publicPodcast(podcast), feedUrl: publicUrl(c.env.PUBLIC_BASE_URL, publicPaths.feed(id)) });
});
