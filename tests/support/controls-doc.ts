/**
 * Reads the control catalogue document (`docs/controls.md`, the repo's copy of the contract in
 * shared/spec/controls.md) and the README's check tables, so that one test can hold the rule
 * definitions to them instead of a hand-copied table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEVERITIES, type Severity } from '../../src/rules/ids';

const ROOT = join(__dirname, '..', '..');

/** One rule row of docs/controls.md. */
export interface ControlRow {
  id: string;
  clauses: string[];
  kind: string;
  subject: string;
  firesWhen: string;
  /** The severity cell as written ("high; **critical** when …", "I: critical, II: high"). */
  severityText: string;
  /** Every severity the cell names, in order of appearance. */
  severities: Severity[];
  /** The `##` heading the row sits under (e.g. "Accounts — アカウント管理 (5-1, …)"). */
  section: string;
}

const ROW_ID = /^[A-Z]+-\d{2}$/;

function cells(line: string): string[] {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
}

/** Severities named in a cell, in order (each once). */
export function severitiesIn(text: string): Severity[] {
  const found: Severity[] = [];
  for (const m of text.toLowerCase().matchAll(/[a-z]+/g)) {
    const w = m[0] as Severity;
    if ((SEVERITIES as readonly string[]).includes(w) && !found.includes(w)) found.push(w);
  }
  return found;
}

const splitClauses = (text: string): string[] => text.split(',').map((c) => c.trim()).filter(Boolean);

/** The rule rows of docs/controls.md, in document order. */
export function readControls(file = join(ROOT, 'docs', 'controls.md')): ControlRow[] {
  const rows: ControlRow[] = [];
  let section = '';
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('## ')) section = line.slice(3).trim();
    if (!line.startsWith('|')) continue;
    const c = cells(line);
    if (c.length !== 6 || !ROW_ID.test(c[0] ?? '')) continue;
    const [id, clauses, kind, subject, firesWhen, severityText] = c as [string, string, string, string, string, string];
    rows.push({ id, clauses: splitClauses(clauses), kind, subject, firesWhen, severityText, severities: severitiesIn(severityText), section });
  }
  return rows;
}

/** One row of the README's "Checks in this release" tables: id | clause | area | severity | fires when. */
export interface ReadmeCheckRow {
  id: string;
  clauses: string[];
  area: string;
  severityText: string;
  severities: Severity[];
}

export function readReadmeChecks(file = join(ROOT, 'README.md')): ReadmeCheckRow[] {
  const rows: ReadmeCheckRow[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('|')) continue;
    const c = cells(line);
    if (c.length !== 5 || !ROW_ID.test(c[0] ?? '')) continue;
    const [id, clauses, area, severityText] = c as [string, string, string, string];
    rows.push({ id, clauses: splitClauses(clauses), area, severityText, severities: severitiesIn(severityText) });
  }
  return rows;
}
