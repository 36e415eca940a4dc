/**
 * Microsoft's Adaptive Card 1.5 JSON schema (exact copy in tests/reference/), compiled once with
 * ajv 8 for every test that validates a card (alerts, the digest's announcement).
 */
import Ajv from 'ajv';
import draft06 from 'ajv/lib/refs/json-schema-draft-06.json';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const schema = JSON.parse(readFileSync(join(__dirname, '..', 'reference', 'adaptive-card-1.5.schema.json'), 'utf8')) as Record<string, unknown>;
// The schema is draft-06 and names itself with the pre-draft-06 `id`; ajv 8 reads `$id`.
const { id, ...rest } = schema;
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addMetaSchema(draft06);
// uri / uri-reference formats: checked by the builders (absolute http(s) only); ajv-formats is not a dependency.
ajv.addFormat('uri', (s: string) => /^https?:\/\/\S+$/.test(s));
ajv.addFormat('uri-reference', (s: string) => /^https?:\/\/\S+$/.test(s));

/** Validates a card against the 1.5 schema; `validateCard.errors` says why not. */
export const validateCard = ajv.compile({ ...rest, $id: String(id) });
