import type { MigrationPlan } from '../api/plan-migrations.ts';

/** The human form of a plan: one line a migration, then the partitions of the window. */
export function formatPlan(plan: MigrationPlan): string {
  const pending = plan.migrations.filter((m) => m.state !== 'applied').length;
  const lines = [
    plan.database
      ? `${pending} to apply, ${plan.migrations.length - pending} already applied on ${plan.database}:`
      : `${plan.migrations.length} migration${plan.migrations.length === 1 ? '' : 's'}, in order (no database asked; give --url or Kind flags for what is applied):`,
  ];
  for (const m of plan.migrations) {
    const state = m.state === 'unknown' ? '' : `${m.state.padEnd(8)} `;
    lines.push(`  ${state}${m.name.padEnd(40)} ${m.reason}${m.tables.length ? `  → ${m.tables.join(', ')}` : ''}`);
    for (const statement of m.sql ?? []) lines.push(`      ${statement.replaceAll('\n', '\n      ')};`);
  }
  for (const p of plan.partitions) lines.push(`partitions of ${p.table} kept for ${p.window[0]} … ${p.window.at(-1)} (${p.window.length} months)`);
  return `${lines.join('\n')}\n`;
}
