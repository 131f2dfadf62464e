import { parseRange } from "./range.ts";

/**
 * Serves one R2 object the way podcast apps and CDNs expect: GET and HEAD,
 * a single byte range (206), conditional requests on the ETag or the date (304), and the
 * Content-Type / Cache-Control the processor stored with the object.
 */
/** Reads of an object replaced between its head and its body, tried again before a 503: a feed is rewritten on every publication. */
const READS = 3;

export async function serveObject(bucket: R2Bucket, key: string, request: Request): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const served = await serveOnce(bucket, key, request);
    if (served !== "changed") return served;
    // Replaced between head and get: read the new version rather than mix the two.
    if (attempt === READS) return Response.json({ error: "object changed, retry" }, { status: 503, headers: { "Retry-After": "1" } });
  }
}

async function serveOnce(bucket: R2Bucket, key: string, request: Request): Promise<Response | "changed"> {
  const head = await bucket.head(key);
  if (!head) return Response.json({ error: "not found" }, { status: 404 });

  const headers = new Headers();
  head.writeHttpMetadata(headers);
  headers.set("ETag", head.httpEtag);
  headers.set("Last-Modified", head.uploaded.toUTCString());
  headers.set("Accept-Ranges", "bytes");
  if (!headers.has("Content-Type")) headers.set("Content-Type", "application/octet-stream");

  const ifNoneMatch = request.headers.get("If-None-Match");
  if (ifNoneMatch ? etagMatches(ifNoneMatch, head.httpEtag) : notModifiedSince(request.headers.get("If-Modified-Since"), head.uploaded)) {
    return new Response(null, { status: 304, headers });
  }

  const range = parseRange(request.headers.get("Range"), head.size);
  if (range === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${head.size}`);
    headers.delete("Content-Type");
    return new Response(null, { status: 416, headers });
  }
  // If-Range: only honour the range when the client's copy is still current.
  const ifRange = request.headers.get("If-Range");
  const useRange = range && (!ifRange || ifRange === head.httpEtag);

  const status = useRange ? 206 : 200;
  const length = useRange ? range.length : head.size;
  headers.set("Content-Length", String(length));
  if (useRange) headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`);

  if (request.method === "HEAD") return new Response(null, { status, headers });

  const object = await bucket.get(key, useRange ? { range: { offset: range.offset, length: range.length } } : {});
  if (!object || object.httpEtag !== head.httpEtag) {
    await object?.body.cancel();
    return "changed";
  }
  return new Response(object.body, { status, headers });
}

/** If-Modified-Since (RFC 9110 §13.1.3): only without If-None-Match, compared at HTTP dates' one-second resolution. */
function notModifiedSince(header: string | null, uploaded: Date): boolean {
  if (!header) return false;
  const since = Date.parse(header);
  if (Number.isNaN(since)) return false;
  return Math.floor(uploaded.getTime() / 1000) * 1000 <= since;
}

function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  return header.split(",").some((t) => bare(t) === bare(etag));
}
