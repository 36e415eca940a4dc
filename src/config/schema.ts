import { z } from 'zod';
import { policySchema } from './policy';

/** The JSON Schema (draft 2020-12) of the policy file as an operator writes it (defaults optional). */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(policySchema, { io: 'input', unrepresentable: 'any' }),
    title: 'm365-audit policy file',
    description: 'Organisation policy for m365-audit (asset register, exceptions, thresholds). See shared/spec/policy.md.',
  };
}
