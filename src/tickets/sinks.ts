/** The external ticket sinks the deployment settings turn on. */
import type { Settings } from '../config/settings';
import type { Graph } from '../graph/graph';
import type { DirectoryLookup } from '../pipeline';
import { PlannerSink } from './planner';
import type { TicketSink } from './sink';
import { WebhookSink } from './webhook';

/** Planner when its plan and bucket are set, the webhook when its URL is set. */
export function sinksFromSettings(settings: Settings, graph: Graph): (directory: DirectoryLookup) => TicketSink[] {
  return (directory) => [
    ...(settings.planner ? [new PlannerSink(graph, { ...settings.planner, userIdOf: (a) => directory.userIdOf(a) })] : []),
    ...(settings.ticketWebhook ? [new WebhookSink(settings.ticketWebhook)] : []),
  ];
}
