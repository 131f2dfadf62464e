/** The admin API as a script uses it: create a show on a running edge. */
import type { LocalStack } from "./stack.ts";

export interface CreatedPodcast {
  podcastId: string;
  uploadToken: string;
  feedUrl: string;
}

/** POST /podcasts with the admin token; throws with the edge's message unless 201. */
export async function createPodcast(
  stack: Pick<LocalStack, "edgeUrl" | "adminToken">,
  fields: Record<string, unknown>,
): Promise<CreatedPodcast> {
  const res = await fetch(`${stack.edgeUrl}/podcasts`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ language: "en", category: "Technology", explicit: false, ...fields }),
  });
  if (res.status !== 201) throw new Error(`creating the podcast failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedPodcast;
}
