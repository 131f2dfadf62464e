import { Container } from "@cloudflare/containers";

/** Production home of the processor: a Cloudflare Container running processor/Dockerfile. */
export class ProcessorContainer extends Container {
  override defaultPort = 8080;
  override sleepAfter = "10m";
}
