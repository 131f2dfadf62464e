/**
 * Apple Podcasts' category list (itunes:category), as Apple Podcasts Connect
 * offers it: a parent, optionally one of its subcategories. Spelling and
 * "&" are exact: Apple ignores a category it does not know.
 */
export const APPLE_CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  Arts: ["Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"],
  Business: ["Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"],
  Comedy: ["Comedy Interviews", "Improv", "Stand-Up"],
  Education: ["Courses", "How To", "Language Learning", "Self-Improvement"],
  Fiction: ["Comedy Fiction", "Drama", "Science Fiction"],
  Government: [],
  History: [],
  "Health & Fitness": ["Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"],
  "Kids & Family": ["Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"],
  Leisure: ["Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden", "Video Games"],
  Music: ["Music Commentary", "Music History", "Music Interviews"],
  News: ["Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News", "Tech News"],
  "Religion & Spirituality": ["Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"],
  Science: [
    "Astronomy",
    "Chemistry",
    "Earth Sciences",
    "Life Sciences",
    "Mathematics",
    "Natural Sciences",
    "Nature",
    "Physics",
    "Social Sciences",
  ],
  "Society & Culture": ["Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"],
  Sports: [
    "Baseball",
    "Basketball",
    "Cricket",
    "Fantasy Sports",
    "Football",
    "Golf",
    "Hockey",
    "Rugby",
    "Running",
    "Soccer",
    "Swimming",
    "Tennis",
    "Volleyball",
    "Wilderness",
    "Wrestling",
  ],
  Technology: [],
  "True Crime": [],
  "TV & Film": ["After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"],
};

/**
 * How many categories a show may list. Apple Podcasts Connect lets a show
 * pick up to three; Apple's feed spec says only the first is used for
 * browsing, so the first is the primary one.
 */
export const MAX_CATEGORIES = 3;

/** A category as written by creators: "Parent" or "Parent > Child". */
export function splitCategory(value: string): { parent: string; child?: string } {
  const [parent = "", child] = value.split(">").map((s) => s.trim());
  return child ? { parent, child } : { parent };
}

/** Undefined if valid, else why not (with the right spelling when only the case or spacing was off). */
export function categoryProblem(value: string): string | undefined {
  const { parent, child } = splitCategory(value);
  const fold = (s: string) => s.toLowerCase().replace(/\s+/g, " ");
  const children = APPLE_CATEGORIES[parent];
  if (!children) {
    const near = Object.keys(APPLE_CATEGORIES).find((p) => fold(p) === fold(parent));
    return near
      ? `"${parent}" is not an Apple Podcasts category; did you mean "${near}"?`
      : `"${parent}" is not an Apple Podcasts category`;
  }
  if (child === undefined) return undefined;
  if (children.includes(child)) return undefined;
  const near = children.find((c) => fold(c) === fold(child));
  if (near) return `"${child}" is not a subcategory of ${parent}; did you mean "${near}"?`;
  return children.length === 0
    ? `${parent} has no subcategories`
    : `"${child}" is not a subcategory of ${parent} (one of: ${children.join(", ")})`;
}
