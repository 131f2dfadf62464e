/**
 * Secrets that can hide in any text a service emits (span attributes, event
 * and status messages, log lines), in every encoding a URL or a file name can
 * carry them: upload tokens plain or percent-encoded (`pp%5F...`, as a query
 * parameter carries `pp_...`), Bearer/Basic credentials, credential-like query
 * parameters, and exact known values (the admin token, OTLP headers, the
 * signing secret). Used by the edge's exporter and the processor's.
 */
export const REDACTED = "[REDACTED]";

/** `_` as a URL or form carries it: itself, or percent-encoded. */
const US = "(?:_|%5[fF])";
const PATTERNS: [RegExp, string][] = [
  // Upload tokens (shared/podcast.ts, pp_<podcastId>_<secret>): keep the podcast id, drop the secret.
  [new RegExp(`(pp${US}[A-Za-z0-9-]{1,64}${US})(?:[A-Za-z0-9-]|${US}){8,}`, "g"), `$1${REDACTED}`],
  [/\b(Bearer|Basic)(\s+|%20|\+)[^\s,;"'&]+/gi, `$1 ${REDACTED}`],
];

export const SECRET_QUERY =
  /^(token|access_token|key|api_key|apikey|secret|signature|sig|password|auth|x-amz-signature|x-amz-credential|x-amz-security-token)$/i;

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, " "));
  } catch {
    return name;
  }
}

/** Drops the values of query parameters that look like credentials, in any URL inside the text. */
function redactQuery(s: string): string {
  if (!s.includes("?") && !s.includes("&")) return s;
  return s.replace(/([?&])([^=&#\s]+)=([^&#\s]*)/g, (all, sep: string, name: string) =>
    SECRET_QUERY.test(decodedName(name)) ? `${sep}${name}=${REDACTED}` : all,
  );
}

/** `secrets`: exact values never to appear, also in their percent-encoded form. Short ones are ignored (they would redact words). */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 8) continue;
    out = out.split(secret).join(REDACTED);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  }
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return redactQuery(out);
}
