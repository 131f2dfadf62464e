export { EpisodeUpload } from "./upload/episode-upload.ts";
export { ProcessorContainer } from "./dispatch/container.ts";
export default {
  async fetch(req: Request) { return new Response("ok"); },
};
