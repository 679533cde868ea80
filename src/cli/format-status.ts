import type { StatusReport } from '../api/migration-status.ts';
import type { IsolationDatabase } from '../provide/isolation-databases.ts';

/** The human form of `status`: one line a migration, then the isolation databases on the server. */
export function formatStatus(report: StatusReport): string {
  const lines = report.migrations.map((s) => `${s.name.padEnd(40)} ${s.applied ? `applied ${s.appliedAt}` : 'pending'}${s.checksum === 'changed' ? '  CHANGED SINCE APPLIED' : ''}`);
  const templates = report.isolation.filter((d) => d.kind === 'template');
  const clones = report.isolation.filter((d) => d.kind === 'clone');
  const spares = report.isolation.filter((d) => d.kind === 'spare');
  lines.push(
    '',
    `isolation (isolate: 'file'): ${plural(templates.length, 'template')}, ${plural(clones.length, 'clone')}${spares.length ? `, ${plural(spares.length, 'spare')}` : ''} on the server${report.isolation.length ? ':' : ''}`,
  );
  const width = Math.max(0, ...report.isolation.map((d) => d.name.length));
  for (const d of [...templates, ...spares, ...clones]) lines.push(`  ${d.name.padEnd(width)}  ${d.kind.padEnd(8)}  ${d.state.padEnd(7)}  ${age(d).padEnd(14)}  ${d.why}${d.complete ? '' : ' (half-built)'}`);
  return `${lines.join('\n')}\n`;
}

function age(d: IsolationDatabase): string {
  if (d.ageMs === undefined) return 'age unknown';
  const verb = d.kind === 'template' ? 'used' : 'made';
  return `${verb} ${duration(d.ageMs)} ago`;
}

function duration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
