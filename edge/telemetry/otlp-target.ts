/**
 * Where telemetry goes: OTEL_EXPORTER_OTLP_ENDPOINT (base URL, the signal
 * path is appended as the OTLP spec says) and OTEL_EXPORTER_OTLP_HEADERS
 * (`k=v,k2=v2`, values URL-encoded). Without an endpoint, nothing is exported.
 */
export interface OtlpTarget {
  tracesUrl: string;
  metricsUrl: string;
  headers: Record<string, string>;
}

export interface OtlpSettings {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
}

export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (raw ?? "").split(",")) {
    const i = pair.indexOf("=");
    if (i <= 0) continue;
    const key = decodeSafely(pair.slice(0, i).trim()).toLowerCase();
    const value = decodeSafely(pair.slice(i + 1).trim());
    if (key) headers[key] = value;
  }
  return headers;
}

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function otlpTarget(env: OtlpSettings): OtlpTarget | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint) return undefined;
  const base = endpoint.replace(/\/+$/, "");
  return {
    tracesUrl: `${base}/v1/traces`,
    metricsUrl: `${base}/v1/metrics`,
    headers: parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
  };
}
