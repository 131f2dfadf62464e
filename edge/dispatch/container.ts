import { Container } from "@cloudflare/containers";

/** Settings the processor needs inside its container (Worker secrets/vars, see README "Configuration"). */
export interface ProcessorContainerEnv {
  PUBLIC_BASE_URL: string;
  /** https://<ACCOUNT_ID>.r2.cloudflarestorage.com */
  R2_S3_ENDPOINT?: string;
  R2_BUCKET?: string;
  R2_ACCESS_KEY_ID?: string;
  R2_SECRET_ACCESS_KEY?: string;
  JOB_SIGNING_SECRET?: string;
  MAX_DURATION_SECONDS?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
}

const PORT = 8080;

/** Production home of the processor: a Cloudflare Container running processor/Dockerfile. */
export class ProcessorContainer extends Container<ProcessorContainerEnv> {
  override defaultPort = PORT;
  override sleepAfter = "10m";

  constructor(ctx: ConstructorParameters<typeof Container>[0], env: ProcessorContainerEnv) {
    super(ctx, env);
    // Secrets reach the container only through its environment; unset ones are left out.
    const vars: Record<string, string | undefined> = {
      PORT: String(PORT),
      // Inside the container: the Worker reaches it through the container's network, never the internet.
      HOST: "0.0.0.0",
      PUBLIC_BASE_URL: env.PUBLIC_BASE_URL,
      R2_S3_ENDPOINT: env.R2_S3_ENDPOINT,
      R2_BUCKET: env.R2_BUCKET ?? "podcast-media",
      R2_ACCESS_KEY_ID: env.R2_ACCESS_KEY_ID,
      R2_SECRET_ACCESS_KEY: env.R2_SECRET_ACCESS_KEY,
      JOB_SIGNING_SECRET: env.JOB_SIGNING_SECRET,
      MAX_DURATION_SECONDS: env.MAX_DURATION_SECONDS,
      OTEL_EXPORTER_OTLP_ENDPOINT: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      OTEL_EXPORTER_OTLP_HEADERS: env.OTEL_EXPORTER_OTLP_HEADERS,
      OTEL_SERVICE_NAME: "podcast-processor",
    };
    this.envVars = Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""));
  }

  /**
   * The run outlives the request that started it: no inbound request for
   * `sleepAfter` does not mean idle. Sleep only when the processor says no
   * run is in progress (a run that dies with the container is caught by its
   * lease and the sweep).
   */
  override async onActivityExpired(): Promise<void> {
    try {
      const res = await this.containerFetch("http://processor/healthz", PORT);
      const health = (await res.json()) as { inFlight?: number };
      if ((health.inFlight ?? 0) > 0) {
        this.renewActivityTimeout();
        return;
      }
    } catch {
      // Not answering: nothing worth keeping it awake for.
    }
    await this.stop();
  }
}
