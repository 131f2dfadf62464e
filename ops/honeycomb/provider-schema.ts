/**
 * The arguments and nested blocks of the resources we use, as the
 * honeycombio provider 0.51 documents them (docs/resources/*.md, "Schema"),
 * names only: a misspelt argument is an error at `terraform plan`, which
 * cannot run here, so the test checks main.tf.json against this instead.
 * A nested block maps to its own schema; an argument to true.
 */
export type Schema = { [name: string]: true | Schema };

/** Terraform's meta-arguments, accepted on every resource. */
const META: Schema = {
  depends_on: true,
  count: true,
  for_each: true,
  provider: true,
  lifecycle: { create_before_destroy: true, prevent_destroy: true, ignore_changes: true, replace_triggered_by: true },
};

const recipient: Schema = {
  id: true,
  target: true,
  type: true,
  notification_details: { pagerduty_severity: true, variable: { name: true, value: true } },
};

export const RESOURCE_SCHEMAS: Record<string, Schema> = {
  honeycombio_derived_column: { ...META, alias: true, expression: true, dataset: true, description: true },
  honeycombio_query: { ...META, query_json: true, dataset: true },
  honeycombio_query_annotation: { ...META, name: true, query_id: true, dataset: true, description: true },
  honeycombio_flexible_board: {
    ...META,
    name: true,
    description: true,
    tags: true,
    preset_filter: { column: true, alias: true },
    panel: {
      type: true,
      position: { height: true, width: true, x_coordinate: true, y_coordinate: true },
      query_panel: {
        query_id: true,
        query_annotation_id: true,
        query_style: true,
        visualization_settings: {
          hide_compare: true,
          hide_hovers: true,
          hide_markers: true,
          prefer_overlaid_charts: true,
          use_utc_xaxis: true,
          chart: { chart_index: true, chart_type: true, omit_missing_values: true, use_log_scale: true },
        },
      },
      slo_panel: { slo_id: true },
      text_panel: { content: true },
    },
  },
  honeycombio_trigger: {
    ...META,
    name: true,
    alert_type: true,
    auto_investigate: true,
    dataset: true,
    description: true,
    disabled: true,
    frequency: true,
    query_id: true,
    query_json: true,
    tags: true,
    baseline_details: { offset_minutes: true, type: true },
    evaluation_schedule: { days_of_week: true, end_time: true, start_time: true },
    recipient,
    threshold: { op: true, value: true, exceeded_limit: true },
  },
  honeycombio_slo: {
    ...META,
    name: true,
    sli: true,
    target_percentage: true,
    time_period: true,
    dataset: true,
    datasets: true,
    description: true,
    tags: true,
  },
  honeycombio_burn_alert: {
    ...META,
    slo_id: true,
    alert_type: true,
    auto_investigate: true,
    budget_rate_decrease_percent: true,
    budget_rate_window_minutes: true,
    dataset: true,
    description: true,
    exhaustion_minutes: true,
    recipient,
  },
};

/** Required arguments (the docs' "Required"). */
export const REQUIRED: Record<string, string[]> = {
  honeycombio_derived_column: ["alias", "expression"],
  honeycombio_query: ["query_json"],
  honeycombio_query_annotation: ["name", "query_id"],
  honeycombio_flexible_board: ["name"],
  honeycombio_trigger: ["name"],
  honeycombio_slo: ["name", "sli", "target_percentage", "time_period"],
  honeycombio_burn_alert: ["slo_id"],
};

/** Paths in `value` that `schema` does not know, e.g. "panel.query_panel.chart_typ". */
export function unknownArguments(schema: Schema, value: unknown, at = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => unknownArguments(schema, v, at));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const path = at ? `${at}.${k}` : k;
    if (k === "//") return [];
    const s = schema[k];
    if (s === undefined) return [path];
    return s === true ? [] : unknownArguments(s, v, path);
  });
}
