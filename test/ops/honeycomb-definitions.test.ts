// The board, triggers, SLO and burn alerts as code, checked offline: neither
// Terraform's registry nor Honeycomb can be reached from here, so the
// honeycombio provider's own rules (0.51) are applied by ops/honeycomb/validate.ts
// and shown here to catch what the provider would refuse; and the committed
// main.tf.json must be exactly what the definitions generate. That the
// columns exist is checked against a real run in emitted-columns.test.ts.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { BOARD_QUERIES, BURN_ALERTS, DERIVED_COLUMNS, SLO, TRIGGERS, type Trigger } from "../../ops/honeycomb/definitions.ts";
import { TERRAFORM_FILE, definitionErrors } from "../../ops/honeycomb/generate.ts";
import { buildTerraform, renderTerraform } from "../../ops/honeycomb/terraform.ts";
import { querySpecErrors, sloErrors, triggerErrors } from "../../ops/honeycomb/validate.ts";
import { REQUIRED, RESOURCE_SCHEMAS, unknownArguments } from "../../ops/honeycomb/provider-schema.ts";

const trigger = (key: string) => TRIGGERS.find((t) => t.key === key)!;
const mutate = (t: Trigger, change: Partial<Trigger>): Trigger => ({ ...t, ...change, spec: { ...t.spec, ...(change.spec ?? {}) } });

describe("definitions", () => {
  it("pass every rule the provider applies to queries, triggers, SLOs and burn alerts", () => {
    expect(definitionErrors()).toEqual([]);
  });

  it("have the article's four alerts, each a trigger as Honeycomb evaluates it", () => {
    expect(trigger("publish_over_sla").threshold).toEqual({ op: ">", value: 1 });
    // Failure rate above 2% in any 30-minute window: a 30-minute query checked every 10 minutes.
    expect(trigger("failure_rate")).toMatchObject({ frequency: 600, spec: { time_range: 1800 }, threshold: { op: ">", value: 0.02 } });
    // Queue depth growing for 15 minutes: its oldest message older than 15 minutes, throughout 5 minutes.
    expect(trigger("queue_not_draining")).toMatchObject({ spec: { calculations: [{ op: "MIN" }] }, threshold: { op: ">", value: 900 } });
    // Any stage's p95 above twice its normal value: +100% against the same hour a day earlier, per stage.
    expect(trigger("stage_p95_doubled")).toMatchObject({
      spec: { calculations: [{ op: "P95", column: "duration_ms" }], breakdowns: ["audio.pipeline.stage"] },
      threshold: { op: ">=", value: 100 },
      baseline: { type: "percentage", offset_minutes: 1440 },
    });
  });

  it("define the SLO on an SLI derived column in its own dataset, with burn alerts", () => {
    expect(sloErrors(SLO, DERIVED_COLUMNS, BURN_ALERTS)).toEqual([]);
    expect(DERIVED_COLUMNS.find((d) => d.alias === SLO.sli)?.dataset).toBe(SLO.dataset);
    expect(BURN_ALERTS.length).toBeGreaterThan(0);
    expect(sloErrors({ ...SLO, sli: "sli.missing" }, DERIVED_COLUMNS, BURN_ALERTS)).toEqual([
      `SLO ${SLO.key}: SLI sli.missing is not a derived column`,
    ]);
  });

  it("give the board the article's four views and the operator's others", () => {
    expect(BOARD_QUERIES.map((q) => q.key)).toEqual(
      expect.arrayContaining([
        "throughput_by_podcast",
        "stage_latency",
        "queue_depth",
        "failure_rate_by_stage",
        "uploads_in_progress",
        "uploads_abandoned",
        "dispatch_outcomes",
        "loudness_corrections",
        "loudness_warnings",
        "queue_wait",
      ]),
    );
    expect(BOARD_QUERIES.find((q) => q.key === "stage_latency")?.chart).toBe("stacked");
  });
});

describe("the provider's rules, as validate.ts applies them", () => {
  const base = trigger("publish_over_sla");

  it("refuses a trigger whose time range is outside 1x-4x its frequency, or whose frequency is not a multiple of 60", () => {
    expect(triggerErrors(mutate(base, { frequency: 900 }))).toEqual([]);
    expect(triggerErrors(mutate(base, { frequency: 600, spec: { time_range: 2400 } }))).toEqual([]);
    expect(triggerErrors(mutate(base, { frequency: 600, spec: { time_range: 600 } }))).toEqual([]);
    expect(triggerErrors(mutate(base, { frequency: 600, spec: { time_range: 3600 } })).join()).toMatch(/more than 4x the frequency/);
    expect(triggerErrors(mutate(base, { frequency: 900, spec: { time_range: 600 } })).join()).toMatch(/shorter than the frequency/);
    expect(triggerErrors(mutate(base, { frequency: 90, spec: { time_range: 180 } })).join()).toMatch(/multiple of 60/);
    // No time range: Honeycomb's default of two hours applies, so the lowest frequency is 1800 (the provider's docs).
    expect(triggerErrors(mutate(base, { frequency: 1800, spec: { time_range: undefined } }))).toEqual([]);
    expect(triggerErrors(mutate(base, { frequency: 900, spec: { time_range: undefined } })).join()).toMatch(/more than 4x/);
  });

  it("refuses HEATMAP and CONCURRENCY, more than one formula or calculation, orders and limits", () => {
    expect(triggerErrors(mutate(base, { spec: { calculations: [{ op: "HEATMAP", column: "duration_ms" }] } })).join()).toMatch(/HEATMAP/);
    expect(triggerErrors(mutate(base, { spec: { calculations: [{ op: "CONCURRENCY" }] } })).join()).toMatch(/CONCURRENCY/);
    expect(triggerErrors(mutate(base, { spec: { calculations: [{ op: "COUNT" }, { op: "MAX", column: "duration_ms" }] } })).join()).toMatch(
      /single calculation, found 2/,
    );
    const twoFormulas = {
      calculations: [
        { op: "COUNT" as const, name: "a" },
        { op: "COUNT" as const, name: "b" },
      ],
      formulas: [
        { name: "x", expression: "DIV($a, $b)" },
        { name: "y", expression: "SUB($a, $b)" },
      ],
      filters: undefined,
    };
    expect(triggerErrors(mutate(base, { spec: twoFormulas })).join()).toMatch(/at most 1 formula/);
    expect(triggerErrors(mutate(base, { spec: { ...twoFormulas, formulas: twoFormulas.formulas.slice(0, 1) } }))).toEqual([]);
    expect(triggerErrors(mutate(base, { spec: { orders: [{ op: "COUNT" }] } })).join()).toMatch(/orders/);
    expect(triggerErrors(mutate(base, { spec: { limit: 10 } })).join()).toMatch(/limit/);
  });

  it("takes baseline_details only with >= or <=, the documented offsets, and a having only with its calculation", () => {
    const doubled = trigger("stage_p95_doubled");
    expect(triggerErrors(mutate(doubled, { threshold: { op: ">", value: 100 } })).join()).toMatch(/'>=' or '<='/);
    expect(triggerErrors(mutate(doubled, { baseline: { type: "percentage", offset_minutes: 30 as 60 } })).join()).toMatch(
      /baseline offset 30/,
    );
    expect(triggerErrors(mutate(doubled, { threshold: { op: "<=", value: 5 } })).join()).toMatch(/value <= 0/);
    const rate = trigger("failure_rate");
    expect(triggerErrors(mutate(rate, { spec: { havings: [{ calculate_op: "COUNT", column: "x", op: ">=", value: 1 }] } })).join()).toMatch(
      /no matching calculation/,
    );
  });

  it("refuses query fields the provider does not know (it decodes query_json with unknown fields disallowed)", () => {
    expect(querySpecErrors({ calculations: [{ op: "COUNT" }], ...({ time: 5 } as object) })).toEqual(['unknown query field "time"']);
    expect(querySpecErrors({ filters: [{ column: "name", op: "in", value: "audio.validate" }] }).join()).toMatch(
      /only in\/not-in take a list/,
    );
  });
});

describe("main.tf.json", () => {
  it("is exactly what the definitions generate (run `npm run ops:honeycomb` after editing them)", async () => {
    expect(await readFile(TERRAFORM_FILE, "utf8")).toBe(renderTerraform());
  });

  it("uses only arguments and blocks the provider documents for each resource, and every required one", () => {
    const tf = buildTerraform() as { resource: Record<string, Record<string, Record<string, unknown>>> };
    const problems: string[] = [];
    for (const [type, byName] of Object.entries(tf.resource)) {
      const schema = RESOURCE_SCHEMAS[type];
      if (!schema) {
        problems.push(`${type}: not a resource this file knows`);
        continue;
      }
      for (const [name, body] of Object.entries(byName)) {
        problems.push(...unknownArguments(schema, body).map((p) => `${type}.${name}: unknown argument ${p}`));
        problems.push(...REQUIRED[type]!.filter((r) => !(r in body)).map((r) => `${type}.${name}: missing ${r}`));
      }
    }
    expect(problems).toEqual([]);
    // The check itself notices a misspelt argument deep in a block.
    expect(
      unknownArguments(RESOURCE_SCHEMAS.honeycombio_flexible_board!, {
        panel: [{ query_panel: [{ visualization_settings: [{ chart: [{ chart_typ: "line" }] }] }] }],
      }),
    ).toEqual(["panel.query_panel.visualization_settings.chart.chart_typ"]);
  });

  it("wires every panel, trigger and alert to resources it defines, and keeps literal text free of Terraform interpolation", () => {
    const tf = buildTerraform() as { resource: Record<string, Record<string, unknown>> };
    const defined = new Set(Object.entries(tf.resource).flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`)));
    const text = JSON.stringify(tf);
    for (const [, ref] of text.matchAll(/\$\{((?:honeycombio_[a-z_]+)\.[a-z0-9_]+)\.[a-z_]+\}/g)) expect(defined.has(ref!), ref).toBe(true);
    // Query JSON and expressions are literal strings: a "${" or "%{" in them would be read as a template.
    for (const spec of [...BOARD_QUERIES.map((q) => q.spec), ...TRIGGERS.map((t) => t.spec)])
      expect(JSON.stringify(spec)).not.toMatch(/[$%]\{/);
    for (const d of DERIVED_COLUMNS) expect(d.expression).not.toMatch(/[$%]\{/);
    expect(Object.keys(tf.resource)).toEqual(
      expect.arrayContaining([
        "honeycombio_flexible_board",
        "honeycombio_query",
        "honeycombio_trigger",
        "honeycombio_slo",
        "honeycombio_burn_alert",
        "honeycombio_derived_column",
      ]),
    );
  });
});
