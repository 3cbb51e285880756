// SPDX-License-Identifier: MIT
// Validate one OpenAPI document against the official OpenAPI JSON Schema of its version, as
// bundled by @seriousme/openapi-schema-validator (Ajv, JSON Schema 2020-12 for OpenAPI 3.1),
// and check that every $ref in it resolves. Run by tests/tools/check-openapi:
//   node validate.mjs FILE VERSION      e.g. node validate.mjs docs/openapi.yaml 3.1
// Prints one line "ok <validator> <version>" and exits 0, or the errors and exits 1.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";

const [file, want] = process.argv.slice(2);
if (!file || !want) {
    console.error("usage: node validate.mjs FILE VERSION");
    process.exit(2);
}
const pkg = JSON.parse(
    readFileSync(
        new URL("./node_modules/@seriousme/openapi-schema-validator/package.json", import.meta.url),
        "utf-8",
    ),
);
const validator = new Validator();
const result = await validator.validate(file);
if (validator.version !== want) {
    console.error(`${file}: OpenAPI ${validator.version ?? "(none)"}, expected ${want}`);
    process.exit(1);
}
if (!result.valid) {
    console.error(`${file}: not valid OpenAPI ${want} (${pkg.name} ${pkg.version}):`);
    console.error(JSON.stringify(result.errors, null, 2));
    process.exit(1);
}
console.log(`ok ${pkg.name} ${pkg.version}`);
