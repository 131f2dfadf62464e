/** The few edge requests the uploader makes besides tus: who the token belongs to, and an episode's status. */
import { CliError, EXIT } from "./exit-codes.ts";

export interface Show {
  podcastId: string;
  title: string;
  feedUrl: string;
}

export interface Rendition {
  id: string;
  url: string;
  mimeType: string;
  bytes: number;
}

export interface EpisodeStatus {
  episodeId: string;
  title: string;
  state: "uploading" | "queued" | "processing" | "published" | "failed";
  stage?: string;
  failure?: { reason: string; permanent: boolean };
  upload?: { bytesReceived: number; totalBytes?: number };
  renditions?: Rendition[];
}

/** Why a request never got an answer, in a creator's words (Node's fetch hides it in `cause`). */
export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (err as { code?: string })?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host name not found";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out";
    case "ECONNRESET":
      return "connection reset";
    default:
      return cause?.message ?? (err instanceof Error ? err.message : String(err));
  }
}

export class EdgeClient {
  readonly edgeUrl: string;
  /** Sent only in this edge's Authorization header; never printed. */
  readonly token: string;

  constructor(edgeUrl: string, token: string) {
    this.edgeUrl = edgeUrl.replace(/\/+$/, "");
    this.token = token;
  }

  async #get(path: string): Promise<Response> {
    try {
      return await fetch(`${this.edgeUrl}${path}`, {
        headers: { Authorization: `Bearer ${this.token}` },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new CliError(EXIT.unreachable, `cannot reach the edge at ${this.edgeUrl}: ${networkReason(err)}`);
    }
  }

  /** The show the token uploads to; a refused token ends here, before any upload is created. */
  async whoami(): Promise<Show> {
    const res = await this.#get("/upload/whoami");
    if (res.status === 401 || res.status === 403) {
      throw new CliError(
        EXIT.tokenRefused,
        `the upload token was not accepted by ${this.edgeUrl} (${res.status}: ${await errorText(res)})`,
      );
    }
    if (!res.ok) throw new CliError(EXIT.failure, `the edge at ${this.edgeUrl} answered ${res.status}: ${await errorText(res)}`);
    return (await res.json()) as Show;
  }

  async episode(episodeId: string): Promise<EpisodeStatus> {
    const res = await this.#get(`/episodes/${encodeURIComponent(episodeId)}`);
    if (res.status === 401 || res.status === 403) {
      throw new CliError(
        EXIT.tokenRefused,
        `the upload token was not accepted by ${this.edgeUrl} (${res.status}: ${await errorText(res)})`,
      );
    }
    if (res.status === 404) throw new CliError(EXIT.usage, `no episode ${episodeId} for this token`);
    if (!res.ok) throw new CliError(EXIT.failure, `the edge answered ${res.status} for episode ${episodeId}: ${await errorText(res)}`);
    return (await res.json()) as EpisodeStatus;
  }
}

async function errorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    return (JSON.parse(text) as { error?: string }).error ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200) || res.statusText;
  }
}
