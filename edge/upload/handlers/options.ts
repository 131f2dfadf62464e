/** OPTIONS /uploads — tus discovery: version, extensions, limits. Public: it reveals nothing about uploads. */
import { CHECKSUM_ALGORITHMS } from "../checksum.ts";
import type { UploadLimits } from "../limits.ts";
import { TUS_EXTENSIONS, TUS_VERSION } from "../protocol.ts";

export function discoveryHeaders(limits: UploadLimits): Record<string, string> {
  return {
    "Tus-Resumable": TUS_VERSION,
    "Tus-Version": TUS_VERSION,
    "Tus-Extension": TUS_EXTENSIONS.join(","),
    "Tus-Max-Size": String(limits.maxBytes),
    "Tus-Checksum-Algorithm": Object.keys(CHECKSUM_ALGORITHMS).join(","),
  };
}

export function handleOptions(limits: UploadLimits): Response {
  return new Response(null, { status: 204, headers: discoveryHeaders(limits) });
}
