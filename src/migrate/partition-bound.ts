/*
 * Partition bounds as Postgres prints them (`pg_get_expr(relpartbound)`), read in one place:
 * verification (does a partition accept today?) and doctor (which months are covered?).
 */

/**
 * `FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')` (date, timestamp or timestamptz keys,
 * MINVALUE/MAXVALUE too) as epoch milliseconds; `'default'` for the DEFAULT partition;
 * undefined for anything else (list or hash bounds, several key columns).
 */
export function rangeOf(bound: string): { from: number; to: number } | 'default' | undefined {
  if (/^DEFAULT$/i.test(bound.trim())) return 'default';
  const match = /^FOR VALUES FROM \((.+)\) TO \((.+)\)$/i.exec(bound.trim());
  if (!match) return undefined;
  const from = valueOf(match[1]!);
  const to = valueOf(match[2]!);
  return from === undefined || to === undefined ? undefined : { from, to };
}

function valueOf(literal: string): number | undefined {
  const text = literal.trim();
  if (/^MINVALUE$/i.test(text)) return -Infinity;
  if (/^MAXVALUE$/i.test(text)) return Infinity;
  const quoted = /^'(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}(?::?\d{2})?)?)?'$/.exec(text);
  if (!quoted) return undefined;
  const [, date, time = '00:00:00', zone] = quoted;
  // A timestamp without a zone is read as UTC, as the horizon's months are.
  const offset = zone ? (zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`) : 'Z';
  const ms = Date.parse(`${date}T${time}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}
