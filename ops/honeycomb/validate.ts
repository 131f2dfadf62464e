/**
 * The honeycombio provider's own checks (0.51: internal/helper/validation/
 * query_spec.go, trigger_query_spec.go, internal/provider/trigger_resource.go,
 * flexible_board and burn alert schemas), run offline: neither Terraform's
 * registry nor Honeycomb can be reached from here, and a definition the
 * provider would refuse should fail a test, not an apply.
 */
import { CALCULATION_OPS, DEFAULT_TIME_RANGE, FILTER_OPS, QUERY_SPEC_FIELDS, type QuerySpec } from "./query-spec.ts";
import type { BoardQuery, BurnAlert, ChartType, DerivedColumn, Slo, Trigger } from "./definitions.ts";

const CHART_TYPES: ChartType[] = ["line", "tsbar", "stacked", "stat", "cpie", "cbar", "default"];
const THRESHOLD_OPS = [">", ">=", "<", "<="];
const BASELINE_OFFSETS = [60, 1440, 10080, 40320];

/** What the provider's querySpecValidator and the data source accept for any query. */
export function querySpecErrors(spec: QuerySpec): string[] {
  const errors: string[] = [];
  for (const field of Object.keys(spec)) {
    if (!(QUERY_SPEC_FIELDS as readonly string[]).includes(field)) errors.push(`unknown query field "${field}"`);
  }
  const calcs = spec.calculations ?? [];
  for (const c of calcs) {
    if (!(CALCULATION_OPS as readonly string[]).includes(c.op)) errors.push(`unknown calculation op ${c.op}`);
    if (c.op === "CONCURRENCY" && c.column) errors.push("CONCURRENCY takes no column");
    if (!["COUNT", "COUNT_DATAPOINTS", "CONCURRENCY"].includes(c.op) && !c.column) errors.push(`${c.op} needs a column`);
    if (c.filters && !c.name) errors.push(`${c.op}(${c.column ?? ""}) has filters but no name`);
  }
  for (const f of [...(spec.filters ?? []), ...calcs.flatMap((c) => c.filters ?? [])]) {
    if (!(FILTER_OPS as readonly string[]).includes(f.op)) errors.push(`unknown filter op ${f.op} on ${f.column}`);
    const unary = f.op === "exists" || f.op === "does-not-exist";
    if (unary && f.value !== undefined) errors.push(`filter ${f.column} ${f.op} takes no value`);
    if (!unary && f.value === undefined) errors.push(`filter ${f.column} ${f.op} needs a value`);
    if ((f.op === "in" || f.op === "not-in") !== Array.isArray(f.value))
      errors.push(`filter ${f.column} ${f.op}: only in/not-in take a list`);
  }
  for (const h of spec.havings ?? []) {
    if (h.calculate_op === "HEATMAP") errors.push("a having cannot use HEATMAP");
    if (!calcs.some((c) => c.op === h.calculate_op && c.column === h.column)) {
      errors.push(`having ${h.calculate_op}(${h.column ?? ""}) has no matching calculation`);
    }
  }
  if (spec.formulas?.length && calcs.some((c) => c.op === "HEATMAP")) errors.push("formulas cannot be used with HEATMAP");
  const names = [...(spec.calculated_fields ?? []).map((f) => f.name)];
  if (new Set(names).size !== names.length) errors.push("duplicate calculated field names");
  const time = spec.time_range ?? DEFAULT_TIME_RANGE;
  if (spec.granularity !== undefined && (spec.granularity > time || spec.granularity < time / 1000)) {
    errors.push(`granularity ${spec.granularity} outside ${time / 1000}..${time}`);
  }
  return errors;
}

/** The trigger resource's rules: query shape, frequency, time range, threshold, baseline. */
export function triggerErrors(t: Trigger): string[] {
  const errors = querySpecErrors(t.spec).map((e) => `${t.key}: ${e}`);
  const e = (m: string) => errors.push(`${t.key}: ${m}`);
  const q = t.spec;
  const calcs = q.calculations ?? [];
  for (const c of calcs) {
    if (c.op === "HEATMAP") e("trigger queries cannot use HEATMAP calculations");
    if (c.op === "CONCURRENCY") e("trigger queries cannot use CONCURRENCY calculations");
  }
  if (q.orders) e("trigger queries cannot use orders");
  if (q.limit !== undefined) e("trigger queries cannot use limit");
  if ((q.havings ?? []).length > 1) e("trigger queries support at most 1 having clause");
  const namedOrFiltered = calcs.some((c) => c.name !== undefined || (c.filters?.length ?? 0) > 0);
  if (namedOrFiltered && (q.filters?.length ?? 0) > 0) e("global filters cannot be used with named or filtered calculations");
  if ((q.formulas ?? []).length > 0) {
    if (q.formulas!.length > 1) e(`at most 1 formula, found ${q.formulas!.length}`);
    if (calcs.length > 100) e("at most 100 calculations with a formula");
  } else {
    if (namedOrFiltered) e("without a formula, calculations cannot be named or filtered");
    const notHaving = calcs.filter((c) => !(q.havings ?? []).some((h) => h.calculate_op === c.op && h.column === c.column));
    const count = calcs.length === 1 ? 1 : (q.havings ?? []).length === 0 ? calcs.length : notHaving.length;
    if (count !== 1) e(`trigger queries must contain a single calculation, found ${count}`);
  }
  if (t.frequency % 60 !== 0 || t.frequency < 60 || t.frequency > 86_400)
    e(`frequency ${t.frequency} must be a multiple of 60 in 60..86400`);
  const time = q.time_range ?? DEFAULT_TIME_RANGE;
  if (time < t.frequency) e(`query time range ${time} is shorter than the frequency ${t.frequency}`);
  if (time > t.frequency * 4) e(`query time range ${time} is more than 4x the frequency ${t.frequency}`);
  if (!THRESHOLD_OPS.includes(t.threshold.op)) e(`threshold op ${t.threshold.op}`);
  const limit = t.threshold.exceeded_limit;
  if (limit !== undefined && (limit < 1 || limit > 5)) e("exceeded_limit must be 1..5");
  if (t.baseline) {
    if (!BASELINE_OFFSETS.includes(t.baseline.offset_minutes)) e(`baseline offset ${t.baseline.offset_minutes}`);
    if (t.baseline.type !== "percentage" && t.baseline.type !== "value") e(`baseline type ${t.baseline.type}`);
    if (t.threshold.op === ">=" && t.threshold.value < 0) e("baseline with '>=' needs a value >= 0");
    else if (t.threshold.op === "<=" && t.threshold.value > 0) e("baseline with '<=' needs a value <= 0");
    else if (t.threshold.op !== ">=" && t.threshold.op !== "<=") e("baseline_details need a threshold op of '>=' or '<='");
  }
  return errors;
}

export function boardQueryErrors(q: BoardQuery): string[] {
  const errors = querySpecErrors(q.spec).map((e) => `${q.key}: ${e}`);
  if (q.chart && !CHART_TYPES.includes(q.chart)) errors.push(`${q.key}: chart type ${q.chart}`);
  return errors;
}

export function sloErrors(slo: Slo, derived: DerivedColumn[], alerts: BurnAlert[]): string[] {
  const errors: string[] = [];
  const sli = derived.find((d) => d.alias === slo.sli);
  if (!sli) errors.push(`SLO ${slo.key}: SLI ${slo.sli} is not a derived column`);
  else if (sli.dataset !== slo.dataset) errors.push(`SLO ${slo.key}: SLI ${slo.sli} is in another dataset`);
  // slo_resource.go: target 0..99.9999, period at least a day, name 1..120, description up to 1023 characters.
  if (!(slo.targetPercentage >= 0 && slo.targetPercentage <= 99.9999)) errors.push(`SLO ${slo.key}: target ${slo.targetPercentage}`);
  if (!(Number.isInteger(slo.timePeriodDays) && slo.timePeriodDays >= 1)) errors.push(`SLO ${slo.key}: time period ${slo.timePeriodDays}`);
  if (slo.name.length < 1 || slo.name.length > 120) errors.push(`SLO ${slo.key}: name length`);
  if (slo.description.length > 1023) errors.push(`SLO ${slo.key}: description length`);
  for (const a of alerts) {
    if (a.alert_type === "exhaustion_time" && !(a.exhaustion_minutes >= 0)) errors.push(`burn alert ${a.key}: exhaustion_minutes`);
    if (
      a.alert_type === "budget_rate" &&
      !(a.budget_rate_window_minutes >= 60 && a.budget_rate_decrease_percent > 0 && a.budget_rate_decrease_percent <= 100)
    ) {
      errors.push(`burn alert ${a.key}: budget rate window/percent`);
    }
  }
  return errors;
}

export function derivedColumnErrors(columns: DerivedColumn[]): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const d of columns) {
    const id = `${d.dataset}/${d.alias}`;
    if (seen.has(id)) errors.push(`derived column ${id} defined twice`);
    seen.add(id);
    let depth = 0;
    for (const ch of d.expression) {
      depth += ch === "(" ? 1 : ch === ")" ? -1 : 0;
      if (depth < 0) break;
    }
    if (depth !== 0) errors.push(`derived column ${d.alias}: unbalanced parentheses`);
  }
  return errors;
}
