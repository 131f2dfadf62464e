import { instrument, instrumentDO } from "@microlabs/otel-cf-workers";
import type { Env } from "./env.ts";
import { app } from "./app.ts";
import { consumeBatch } from "./queue/consumer.ts";
import { runScheduled } from "./scheduled/index.ts";
import { traceConfig } from "./telemetry/config.ts";
import { describeRequestSpan } from "./episodes/request-span.ts";
import { EpisodeUpload as UninstrumentedEpisodeUpload } from "./upload/episode-upload.ts";

// The container class is not wrapped: @cloudflare/containers drives it through its own alarms and RPC.
export { ProcessorContainer } from "./dispatch/container.ts";

/** Each upload's Durable Object, traced: its fetch and alarm become spans in the calling request's trace. */
export const EpisodeUpload = instrumentDO(UninstrumentedEpisodeUpload, traceConfig) as typeof UninstrumentedEpisodeUpload;

/** Every request gets a span; traces and metrics leave over OTLP/HTTP protobuf when configured. */
const traced = instrument<Env, unknown, unknown>(
  {
    fetch: (request, env, ctx) => {
      describeRequestSpan(request);
      return app.fetch(request, env, ctx);
    },
  },
  traceConfig,
);

export default {
  fetch: traced.fetch,
  // Not wrapped by otel-cf-workers: its message proxy drops msg.retry()'s delay. The consumer builds its own spans.
  queue: (batch, env, ctx) => consumeBatch(batch, env, ctx),
  // Cron Trigger (wrangler.toml [triggers]): the sweep and other periodic tasks, edge/scheduled/.
  // Not wrapped by otel-cf-workers: scheduled tasks need the raw bindings (Queue.metrics()).
  scheduled: (controller, env, ctx) => runScheduled(controller, env, ctx),
} satisfies ExportedHandler<Env>;
