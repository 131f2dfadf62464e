import type { Env } from "./env.ts";
import { app } from "./app.ts";

export { EpisodeUpload } from "./upload/episode-upload.ts";
export { ProcessorContainer } from "./dispatch/container.ts";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
