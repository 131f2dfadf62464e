/** A show: what its feed says about it, and how its episodes are processed. */
export interface LoudnessTarget {
  /** Integrated loudness, LUFS. Podcasts: -16 (stereo); EBU R128: -23. */
  integratedLufs: number;
  /** True-peak ceiling, dBTP. */
  truePeakDbtp: number;
}

export const DEFAULT_LOUDNESS: LoudnessTarget = { integratedLufs: -16, truePeakDbtp: -1 };

export interface Podcast {
  podcastId: string;
  title: string;
  author: string;
  description: string;
  /** BCP 47 language tag, e.g. "en" or "en-GB". */
  language: string;
  /** Apple Podcasts category, e.g. "Technology" or "Society & Culture > Documentary": the first of `categories`. */
  category: string;
  /** Every category, primary first (at most MAX_CATEGORIES); absent in records older than it: then [category]. */
  categories?: string[];
  explicit: boolean;
  /** Square cover art, checked when set (1400-3000 px, JPEG/PNG, RGB). */
  artworkUrl?: string;
  /** What the check found at artworkUrl. */
  artwork?: { width: number; height: number; format: "jpeg" | "png" };
  /** Website of the show. Never defaulted: the feed URL is not a website. */
  link?: string;
  /** itunes:type: "serial" shows are listened to in order (oldest first). Default episodic. */
  type?: "episodic" | "serial";
  /** podcast:locked: "yes" asks other platforms not to import the feed. Default false. */
  locked?: boolean;
  copyright?: string;
  /** itunes:complete: no more episodes will ever be published. */
  complete?: boolean;
  /** podcast:funding links (text at most 128 characters). */
  funding?: { url: string; text: string }[];
  /** itunes:new-feed-url: the feed has moved there; apps update their subscription. */
  newFeedUrl?: string;
  /**
   * The owner's e-mail, published in the feed (itunes:owner, podcast:locked
   * owner): Spotify and other directories send their ownership-verification
   * code to it, and Apple uses it for administrative contact.
   */
  ownerEmail?: string;
  loudness: LoudnessTarget;
  /**
   * podcast:guid, fixed when the show is created (UUIDv5 of its first feed
   * URL) so it survives a move to another domain, as the spec asks.
   */
  guid?: string;
  /** SHA-256 (hex) of the upload token. The token itself is never stored. */
  uploadTokenSha256: string;
  createdAt: string;
  updatedAt?: string;
  /**
   * Since when every episode of the show has its marker in the episode index
   * (shows created before the index existed get theirs on first listing).
   */
  episodesIndexedAt?: string;
}

/** The show's categories, primary first, for records written before `categories` existed too. */
export function podcastCategories(p: Pick<Podcast, "category" | "categories">): string[] {
  return p.categories && p.categories.length > 0 ? p.categories : [p.category];
}

/** What is safe to show anyone: the record minus its secret. */
export type PublicPodcast = Omit<Podcast, "uploadTokenSha256">;

export function publicPodcast(p: Podcast): PublicPodcast {
  const { uploadTokenSha256: _secret, ...rest } = p;
  return rest;
}

/**
 * Upload tokens are `pp_<podcastId>_<secret>`: the podcast is found from the
 * token without an index, and the whole token is then checked against the
 * stored hash in constant time.
 */
export function podcastIdFromToken(token: string): string | undefined {
  const m = /^pp_([A-Za-z0-9-]{1,64})_[A-Za-z0-9_-]{20,}$/.exec(token);
  return m?.[1];
}
