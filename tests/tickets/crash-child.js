/**
 * One scan's ticket sync in a process of its own, for tests/tickets/crash.test.ts to SIGKILL.
 * Runs the compiled product (dist/, built by `npm test`'s pretest step): the ledger is a JSON
 * file replaced atomically on every write (write to a temporary file, then rename), the Planner
 * sink talks to the test's simulator over HTTPS, the webhook sink to the test's receiver.
 *
 *   node crash-child.js <config.json>
 *   config: { simUrl, caPem, planId, bucketId, hookUrl, ledgerFile, at, seen: [subject ids], all: [subject ids] }
 */
'use strict';
const { readFileSync, writeFileSync, renameSync, existsSync } = require('node:fs');
const { join } = require('node:path');

const dist = join(__dirname, '..', '..', 'dist', 'src');
const { validatePolicy } = require(join(dist, 'config', 'policy'));
const { loadSettings } = require(join(dist, 'config', 'settings'));
const { fingerprint } = require(join(dist, 'findings', 'finding'));
const { reconcile } = require(join(dist, 'findings', 'ledger'));
const { createGraphClient } = require(join(dist, 'graph', 'client'));
const { Graph } = require(join(dist, 'graph', 'graph'));
const { PlannerSink } = require(join(dist, 'tickets', 'planner'));
const { syncTickets } = require(join(dist, 'tickets', 'tickets'));
const { WebhookSink } = require(join(dist, 'tickets', 'webhook'));

function finding(subjectId) {
  const subject = { kind: 'user', id: subjectId, name: `${subjectId}@example.lg.jp` };
  return {
    id: fingerprint('MFA-02', subject), ruleId: 'MFA-02', clauses: ['5-1-3'], kind: 'state', severity: 'high', area: 'mfa',
    subject, title: { ja: '多要素認証が未登録の職員', en: 'Member without MFA registered' }, evidence: {}, status: 'open', firstSeen: '', lastSeen: '',
  };
}

async function main() {
  const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const ledger = new Map(existsSync(config.ledgerFile) ? JSON.parse(readFileSync(config.ledgerFile, 'utf8')) : []);
  const write = async (entries) => {
    for (const e of entries) ledger.set(e.id, e);
    const tmp = `${config.ledgerFile}.tmp`;
    writeFileSync(tmp, JSON.stringify([...ledger]));
    renameSync(tmp, config.ledgerFile);
  };
  const handle = createGraphClient({ graphUrl: config.simUrl, settings: loadSettings({}), caPem: config.caPem });
  try {
    const graph = new Graph(handle.client, { baseBackoffMs: 20 });
    const policy = validatePolicy({ organization: { systemAdministrators: ['sysadmin@example.lg.jp'] } });
    const sinks = [
      new PlannerSink(graph, { planId: config.planId, bucketId: config.bucketId, userIdOf: () => undefined }),
      new WebhookSink({ url: config.hookUrl }),
    ];
    const rec = reconcile(ledger, { findings: config.seen.map(finding), coverage: { mfa: { status: 'complete', items: config.all.length } }, areas: ['mfa'], at: config.at });
    await write(rec.changed);
    await syncTickets(rec.entries.values(), { policy, now: new Date(config.at), sinks, departmentOf: () => undefined, persist: write });
  } finally {
    await handle.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
