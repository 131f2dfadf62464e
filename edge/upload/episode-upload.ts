import { DurableObject } from "cloudflare:workers";
export class EpisodeUpload extends DurableObject {}
