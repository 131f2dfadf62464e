/**
 * Language tags for the feed's <language> and podcast:transcript language:
 * BCP 47 as Apple and PSP-1 expect it: an ISO 639-1 language, optionally a
 * script (4 letters) and a region (2 letters or 3 digits), e.g. "en",
 * "en-GB", "zh-Hant-TW", "es-419". Anything else ("zz", "english") is refused.
 */
const ISO_639_1 = new Set(
  (
    "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu " +
    "fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn " +
    "ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os " +
    "pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw " +
    "ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
  ).split(" "),
);

const TAG = /^([A-Za-z]{2})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$/;

/** The tag in its canonical case ("en-GB", "zh-Hant-TW"), or undefined if it is not one we accept. */
export function canonicalLanguage(tag: string): string | undefined {
  const m = TAG.exec(tag.trim());
  if (!m) return undefined;
  const [, lang, script, region] = m;
  if (!ISO_639_1.has(lang!.toLowerCase())) return undefined;
  return [lang!.toLowerCase(), script && script[0]!.toUpperCase() + script.slice(1).toLowerCase(), region?.toUpperCase()]
    .filter(Boolean)
    .join("-");
}

export const LANGUAGE_RULE = "a BCP 47 tag with an ISO 639-1 language, such as en, en-GB or pt-BR";
