/**
 * Honeycomb's Query Specification as the Terraform provider reads it
 * (honeycombio 0.51, client/query_spec.go): the fields, calculation and
 * filter operators it knows. `query_json` is decoded with unknown fields
 * disallowed, so nothing else may appear.
 */
export const CALCULATION_OPS = [
  "COUNT",
  "CONCURRENCY",
  "SUM",
  "AVG",
  "COUNT_DISTINCT",
  "MAX",
  "MIN",
  "P001",
  "P01",
  "P05",
  "P10",
  "P20",
  "P25",
  "P50",
  "P75",
  "P80",
  "P90",
  "P95",
  "P99",
  "P999",
  "HEATMAP",
  "RATE_AVG",
  "RATE_SUM",
  "RATE_MAX",
  "COUNT_DATAPOINTS",
  "HISTOGRAM_COUNT",
] as const;
export type CalculationOp = (typeof CALCULATION_OPS)[number];

export const FILTER_OPS = [
  "=",
  "!=",
  ">",
  ">=",
  "<",
  "<=",
  "starts-with",
  "does-not-start-with",
  "ends-with",
  "does-not-end-with",
  "exists",
  "does-not-exist",
  "contains",
  "does-not-contain",
  "in",
  "not-in",
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface Filter {
  column: string;
  op: FilterOp;
  value?: string | number | boolean | string[];
}

export interface Calculation {
  op: CalculationOp;
  column?: string;
  name?: string;
  filters?: Filter[];
}

export interface Having {
  calculate_op: CalculationOp;
  column?: string;
  op: "=" | "!=" | ">" | ">=" | "<" | "<=";
  value: number;
}

export interface QuerySpec {
  calculations?: Calculation[];
  calculated_fields?: { name: string; expression: string }[];
  formulas?: { name: string; expression: string }[];
  filters?: Filter[];
  filter_combination?: "AND" | "OR";
  breakdowns?: string[];
  orders?: { op?: CalculationOp; column?: string; order?: "ascending" | "descending" }[];
  havings?: Having[];
  limit?: number;
  time_range?: number;
  granularity?: number;
}

/** Every field a QuerySpec may carry (the provider's json tags). */
export const QUERY_SPEC_FIELDS = [
  "calculations",
  "calculated_fields",
  "formulas",
  "filters",
  "filter_combination",
  "breakdowns",
  "orders",
  "havings",
  "limit",
  "time_range",
  "start_time",
  "end_time",
  "granularity",
  "compare_time_offset_seconds",
] as const;

/** The provider's default when time_range is left out. */
export const DEFAULT_TIME_RANGE = 7200;
