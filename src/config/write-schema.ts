/**
 * Build step: writes `dist/policy.schema.json`, the JSON Schema of the policy file, generated from
 * the zod schema so that editors (yaml-language-server) can complete and check `policy.yaml`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { policyJsonSchema } from './schema';

const target = join(__dirname, '..', '..', 'policy.schema.json');
writeFileSync(target, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
