/**
 * `npm run ops:honeycomb`: validates definitions.ts against the provider's
 * rules and writes ops/honeycomb/main.tf.json. Refuses to write a definition
 * the provider would reject.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { BOARD_QUERIES, BURN_ALERTS, DERIVED_COLUMNS, SLO, TRIGGERS } from "./definitions.ts";
import { renderTerraform } from "./terraform.ts";
import { boardQueryErrors, derivedColumnErrors, sloErrors, triggerErrors } from "./validate.ts";

export const TERRAFORM_FILE = fileURLToPath(new URL("./main.tf.json", import.meta.url));

export function definitionErrors(): string[] {
  return [
    ...derivedColumnErrors(DERIVED_COLUMNS),
    ...BOARD_QUERIES.flatMap(boardQueryErrors),
    ...TRIGGERS.flatMap(triggerErrors),
    ...sloErrors(SLO, DERIVED_COLUMNS, BURN_ALERTS),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const errors = definitionErrors();
  if (errors.length > 0) {
    console.error(`ops/honeycomb: the provider would refuse these definitions:\n  ${errors.join("\n  ")}`);
    process.exit(1);
  }
  await writeFile(TERRAFORM_FILE, renderTerraform());
  console.log(`wrote ${TERRAFORM_FILE}`);
}
