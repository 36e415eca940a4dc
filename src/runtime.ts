/**
 * Wiring for the Azure Functions handlers: builds the dependencies of a scan (settings, policy,
 * Graph, store) from the app settings. Handlers take these as parameters, so tests pass their own
 * (the simulator's Graph, the test Azurite) and production passes these.
 */
import { existsSync } from 'node:fs';
import { defaultPolicy, loadPolicy, type Policy } from './config/policy';
import { loadSettings, type Settings } from './config/settings';
import { ConfigError } from './errors';
import { createGraphClient, graphOptionsFor } from './graph/client';
import { Graph } from './graph/graph';
import { Store } from './store/store';
import type { DirectoryLookup } from './pipeline';
import type { TicketSink } from './tickets/sink';
import { sinksFromSettings } from './tickets/sinks';
import type { AlertOptions } from './alerts/deliver';
import { TeamsWebhookSink } from './alerts/teams';

export interface ScanDeps {
  policy: Policy;
  tenantId: string;
  /** A fresh Graph per run (budgets and counters are per scan); `close` releases connections. */
  graph(): { graph: Graph; close(): Promise<void>; sinks?: (directory: DirectoryLookup) => readonly TicketSink[] };
  store: Store;
  clock?: () => Date;
  /** Sign-in watch overlap from M365_AUDIT_SIGNIN_OVERLAP_MINUTES (default 120). */
  signInOverlapMinutes?: number | undefined;
  /** Teams alerts when TEAMS_WEBHOOK_URL is set (no files in Azure: nobody would open them). */
  alerts?: AlertOptions | undefined;
}

/** Builds the scan dependencies of a Functions app from its settings. */
export async function depsFromSettings(settings: Settings = loadSettings()): Promise<ScanDeps> {
  if (!settings.tenantId) throw new ConfigError('app settings are incomplete:', ['AZURE_TENANT_ID: set it to the Entra tenant id being scanned']);
  if (!settings.storageConnectionString) {
    throw new ConfigError('app settings are incomplete:', ['AZURE_STORAGE_CONNECTION_STRING (or AzureWebJobsStorage): set it to the storage account of the ledger']);
  }
  const policyFile = settings.policyFile ?? 'policy.yaml';
  const policy = settings.policyFile || existsSync(policyFile) ? await loadPolicy(policyFile) : defaultPolicy();
  const store = await Store.connect(settings.storageConnectionString);
  return {
    policy,
    tenantId: settings.tenantId,
    store,
    signInOverlapMinutes: settings.signInOverlapMinutes,
    alerts: settings.teamsWebhookUrl
      ? {
          sinks: [new TeamsWebhookSink({ url: settings.teamsWebhookUrl })],
          kind: 'run',
          organization: policy.organization.name,
          tenantId: settings.tenantId,
          policy,
          reportUrl: settings.reportUrl,
          plannerPlanId: settings.planner?.planId,
        }
      : undefined,
    graph: () => {
      const handle = createGraphClient({ settings });
      const graph = new Graph(handle.client, graphOptionsFor(handle, settings));
      return { graph, close: () => handle.close(), sinks: sinksFromSettings(settings, graph) };
    },
  };
}
