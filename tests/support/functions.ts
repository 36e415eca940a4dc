/**
 * Calling Functions handlers as the host does: an InvocationContext whose log lines are kept
 * (every level, as Application Insights would get them), and the scan lines of a run's log.
 */
import { InvocationContext } from '@azure/functions';

/** A context whose log lines are kept (every level), as Application Insights would get them. */
export function context(functionName: string): { ctx: InvocationContext; lines: string[] } {
  const lines: string[] = [];
  const ctx = new InvocationContext({ functionName, invocationId: `test-${functionName}`, logHandler: (level, ...args) => lines.push(`${level}: ${args.map(String).join(' ')}`) });
  return { ctx, lines };
}

/** The scan lines of a run's log (`m365-audit.scan`, one per scan), parsed. */
export function scanLines(lines: readonly string[]): Array<Record<string, unknown>> {
  return lines.filter((l) => l.includes('"event":"m365-audit.scan"')).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>);
}
