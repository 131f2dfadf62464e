/**
 * definitions.ts as Terraform JSON (main.tf.json, which Terraform reads like
 * .tf): honeycombio_derived_column, honeycombio_query (+ annotation),
 * honeycombio_flexible_board, honeycombio_trigger, honeycombio_slo,
 * honeycombio_burn_alert. Datasets and the alert recipient are variables.
 */
import { BOARD, BOARD_QUERIES, BURN_ALERTS, DERIVED_COLUMNS, SLO, TRIGGERS, type Dataset } from "./definitions.ts";
import type { QuerySpec } from "./query-spec.ts";

const DATASET_VARIABLES: Record<Dataset, { name: string; default: string; description: string }> = {
  edge: { name: "edge_dataset", default: "podcast-edge", description: "Dataset of the edge's spans (its OTEL_SERVICE_NAME)" },
  processor: {
    name: "processor_dataset",
    default: "podcast-processor",
    description: "Dataset of the processor's spans (its service.name)",
  },
  metrics: {
    name: "metrics_dataset",
    default: "podcast-metrics",
    description: "Dataset both services' metrics go to (x-honeycomb-dataset)",
  },
};

const dataset = (d: Dataset) => `\${var.${DATASET_VARIABLES[d].name}}`;

/** Query JSON as the provider compares it: keys in a fixed order, no whitespace. */
export function queryJson(spec: QuerySpec): string {
  return JSON.stringify(spec);
}

const recipient = [{ type: "email", target: "${var.alert_email}" }];

export function buildTerraform(): Record<string, unknown> {
  const derived = Object.fromEntries(
    DERIVED_COLUMNS.map((d) => [
      d.key,
      {
        dataset: dataset(d.dataset),
        alias: d.alias,
        expression: d.expression,
        description: d.description,
        // An SLI cannot be replaced while the SLO uses it: make the new one first.
        lifecycle: { create_before_destroy: true },
      },
    ]),
  );
  // Queries are immutable in Honeycomb: one that reads a derived column is recreated when the column changes.
  const usesDerived = (spec: QuerySpec) =>
    DERIVED_COLUMNS.filter((d) => JSON.stringify(spec).includes(`"${d.alias}"`)).map((d) => `honeycombio_derived_column.${d.key}`);
  const queries = Object.fromEntries(
    BOARD_QUERIES.map((q) => {
      const replaced = usesDerived(q.spec);
      return [
        q.key,
        {
          dataset: dataset(q.dataset),
          query_json: queryJson(q.spec),
          ...(replaced.length ? { depends_on: replaced, lifecycle: { replace_triggered_by: replaced } } : {}),
        },
      ];
    }),
  );
  const annotations = Object.fromEntries(
    BOARD_QUERIES.map((q) => [
      q.key,
      { dataset: dataset(q.dataset), query_id: `\${honeycombio_query.${q.key}.id}`, name: q.name, description: q.answers },
    ]),
  );
  const board = {
    pipeline: {
      name: BOARD.name,
      description: BOARD.description,
      preset_filter: BOARD.presetFilters.map((f) => ({ column: f.column, alias: f.alias })),
      panel: [
        { type: "text", text_panel: [{ content: BOARD.findAnEpisode }] },
        { type: "slo", slo_panel: [{ slo_id: `\${honeycombio_slo.${SLO.key}.id}` }] },
        ...BOARD_QUERIES.map((q) => ({
          type: "query",
          query_panel: [
            {
              query_id: `\${honeycombio_query.${q.key}.id}`,
              query_annotation_id: `\${honeycombio_query_annotation.${q.key}.id}`,
              query_style: "graph",
              ...(q.chart ? { visualization_settings: [{ chart: [{ chart_index: 0, chart_type: q.chart }] }] } : {}),
            },
          ],
        })),
      ],
    },
  };
  const triggers = Object.fromEntries(
    TRIGGERS.map((t) => {
      const replaced = usesDerived(t.spec);
      return [
        t.key,
        {
          name: t.name,
          description: t.description,
          dataset: dataset(t.dataset),
          query_json: queryJson(t.spec),
          frequency: t.frequency,
          alert_type: "on_change",
          threshold: [
            {
              op: t.threshold.op,
              value: t.threshold.value,
              ...(t.threshold.exceeded_limit ? { exceeded_limit: t.threshold.exceeded_limit } : {}),
            },
          ],
          ...(t.baseline ? { baseline_details: [{ type: t.baseline.type, offset_minutes: t.baseline.offset_minutes }] } : {}),
          recipient,
          ...(replaced.length ? { depends_on: replaced } : {}),
        },
      ];
    }),
  );
  const slo = {
    [SLO.key]: {
      name: SLO.name,
      description: SLO.description,
      // The documented single-dataset form: the SLI is a derived column of that same dataset.
      dataset: dataset(SLO.dataset),
      sli: `\${honeycombio_derived_column.${DERIVED_COLUMNS.find((d) => d.alias === SLO.sli)!.key}.alias}`,
      target_percentage: SLO.targetPercentage,
      time_period: SLO.timePeriodDays,
    },
  };
  const burnAlerts = Object.fromEntries(
    BURN_ALERTS.map(({ key, ...a }) => [
      key,
      { ...a, dataset: dataset(SLO.dataset), slo_id: `\${honeycombio_slo.${SLO.key}.id}`, recipient },
    ]),
  );

  return {
    "//": "Generated by `npm run ops:honeycomb` from ops/honeycomb/definitions.ts: edit that, not this.",
    terraform: { required_providers: { honeycombio: { source: "honeycombio/honeycombio", version: ">= 0.51.0" } } },
    // The Configuration API key comes from HONEYCOMB_API_KEY (README "Operating it"), never from a file.
    provider: { honeycombio: {} },
    variable: {
      ...Object.fromEntries(
        Object.values(DATASET_VARIABLES).map((v) => [v.name, { type: "string", default: v.default, description: v.description }]),
      ),
      alert_email: { type: "string", description: "Who the triggers and burn alerts notify (an e-mail recipient)" },
    },
    resource: {
      honeycombio_derived_column: derived,
      honeycombio_query: queries,
      honeycombio_query_annotation: annotations,
      honeycombio_slo: slo,
      honeycombio_burn_alert: burnAlerts,
      honeycombio_trigger: triggers,
      honeycombio_flexible_board: board,
    },
    output: { board_url: { value: "${honeycombio_flexible_board.pipeline.board_url}" } },
  };
}

export function renderTerraform(): string {
  return `${JSON.stringify(buildTerraform(), null, 2)}\n`;
}
