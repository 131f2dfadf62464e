/**
 * Which columns and span names the definitions read, per dataset: what must
 * exist in Honeycomb for them to work, and so what the services must emit.
 * Derived columns and a query's own calculated fields count as columns of
 * their dataset; the columns their expressions read are collected instead.
 */
import { BOARD_QUERIES, DERIVED_COLUMNS, SLO, SPAN_FIELDS, TRIGGERS, type Dataset } from "./definitions.ts";
import type { QuerySpec } from "./query-spec.ts";

export interface References {
  /** Columns read, per dataset, with who reads them. */
  columns: Map<Dataset, Map<string, Set<string>>>;
  /** Span names a filter on `name` compares with, per dataset. */
  spanNames: Map<Dataset, Map<string, Set<string>>>;
  /** Other string values filters compare a column with ("dataset column" -> values): outcomes, queue names. */
  values: Map<Dataset, Map<string, Set<string>>>;
}

/** `$column.name` references in a Honeycomb expression. */
export function expressionColumns(expression: string): string[] {
  return [...expression.matchAll(/\$([A-Za-z_][\w.]*)/g)].map((m) => m[1]!);
}

function add(map: Map<Dataset, Map<string, Set<string>>>, dataset: Dataset, name: string, by: string) {
  const d = map.get(dataset) ?? new Map<string, Set<string>>();
  d.set(name, (d.get(name) ?? new Set()).add(by));
  map.set(dataset, d);
}

function fromQuery(refs: References, dataset: Dataset, spec: QuerySpec, by: string, derived: Set<string>) {
  const local = new Set((spec.calculated_fields ?? []).map((f) => f.name));
  const column = (c: string | undefined) => {
    if (c && !local.has(c) && !derived.has(c)) add(refs.columns, dataset, c, by);
  };
  for (const f of spec.calculated_fields ?? []) expressionColumns(f.expression).forEach(column);
  for (const c of spec.calculations ?? []) {
    column(c.column);
    for (const f of c.filters ?? []) column(f.column);
  }
  for (const f of spec.filters ?? []) {
    column(f.column);
    if (f.column === SPAN_FIELDS.name && f.value !== undefined) {
      for (const v of Array.isArray(f.value) ? f.value : [f.value]) add(refs.spanNames, dataset, String(v), by);
    } else if (f.op === "=" || f.op === "in") {
      for (const v of Array.isArray(f.value) ? f.value : [f.value]) {
        if (typeof v === "string") add(refs.values, dataset, `${f.column}=${v}`, by);
      }
    }
  }
  for (const b of spec.breakdowns ?? []) column(b);
  for (const h of spec.havings ?? []) column(h.column);
  for (const o of spec.orders ?? []) column(o.column);
}

export function references(): References {
  const refs: References = { columns: new Map(), spanNames: new Map(), values: new Map() };
  const derivedIn = (d: Dataset) => new Set(DERIVED_COLUMNS.filter((c) => c.dataset === d).map((c) => c.alias));
  for (const d of DERIVED_COLUMNS) {
    for (const c of expressionColumns(d.expression)) add(refs.columns, d.dataset, c, `derived column ${d.alias}`);
    for (const m of d.expression.matchAll(/EQUALS\(\$name, "([^"]+)"\)/g))
      add(refs.spanNames, d.dataset, m[1]!, `derived column ${d.alias}`);
  }
  for (const q of BOARD_QUERIES) fromQuery(refs, q.dataset, q.spec, `board query ${q.key}`, derivedIn(q.dataset));
  for (const t of TRIGGERS) fromQuery(refs, t.dataset, t.spec, `trigger ${t.key}`, derivedIn(t.dataset));
  if (!derivedIn(SLO.dataset).has(SLO.sli)) add(refs.columns, SLO.dataset, SLO.sli, `SLO ${SLO.key}`);
  return refs;
}
