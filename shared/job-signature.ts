/**
 * Only the edge starts jobs: it signs each POST /jobs body with HMAC-SHA256
 * under JOB_SIGNING_SECRET (a secret both services hold), and the processor
 * refuses anything unsigned, forged or stale. WebCrypto: the same code runs
 * in workerd, Node and Deno.
 *
 * Header: `x-job-signature: t=<unix seconds>,v1=<hex HMAC of "<t>.<body>">`.
 * The timestamp bounds replays to MAX_SKEW_SECONDS; a replay inside it is
 * harmless (jobs are idempotent).
 */
export const SIGNATURE_HEADER = "x-job-signature";
export const MAX_SKEW_SECONDS = 300;

const encoder = new TextEncoder();

function hmacKey(secret: string, usage: "sign" | "verify") {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

const toHex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

function fromHex(hex: string): Uint8Array | undefined {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export async function signJob(secret: string, body: string, now = new Date()): Promise<string> {
  const t = Math.floor(now.getTime() / 1000);
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), encoder.encode(`${t}.${body}`));
  return `t=${t},v1=${toHex(mac)}`;
}

/** undefined when the signature is valid; otherwise why not (safe to answer: it names no secret). */
export async function jobSignatureProblem(
  secret: string,
  body: string,
  header: string | null,
  now = new Date(),
): Promise<string | undefined> {
  if (!header) return `missing ${SIGNATURE_HEADER} header`;
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header.trim());
  if (!m) return `malformed ${SIGNATURE_HEADER} header`;
  const t = Number(m[1]);
  if (Math.abs(now.getTime() / 1000 - t) > MAX_SKEW_SECONDS) return `${SIGNATURE_HEADER} timestamp outside ${MAX_SKEW_SECONDS} s`;
  // subtle.verify compares in constant time.
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), fromHex(m[2]!)!, encoder.encode(`${t}.${body}`));
  return ok ? undefined : `${SIGNATURE_HEADER} does not match`;
}
