import { Kysely, PostgresDialect, sql, type Insertable } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { applyMigrations, availableMigrations, type ApplyResult } from '../../src/index.ts';
import type { Database } from '../../src/schema/ds-v1.ts';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';

// A fixed clock: the engine keeps partitions May–September 2025 around it, whatever today's date is.
const NOW = new Date('2025-06-15T12:00:00Z');

let database: FreshDatabase;
let applied: ApplyResult;
/** The test's own typed client (a pool); the schema itself comes from the engine. */
let db: Kysely<Database>;

beforeAll(async () => {
  database = await freshDatabase('behaviour');
  applied = await applyMigrations({ url: database.url, tables: 'all', logger: false, now: NOW });
  db = kyselyOnPool<Database>(database.url);
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

function kyselyOnPool<DB>(url: string): Kysely<DB> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // pool.end() resolves before its sockets are closed, so dropping the database right after
  // (WITH FORCE) can still reach a closing idle client as "terminating connection due to
  // administrator command" (57P01), which the pool re-emits: expected, not a failure.
  pool.on('error', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') throw error;
  });
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

test('the engine applied every shipped migration, verified, with the partitions of May–September 2025', async () => {
  expect(applied.applied).toEqual((await availableMigrations()).map((m) => m.name));
  expect(applied.alreadyApplied).toEqual([]);
  expect(applied.partitionsCreated).toEqual([
    'audit_events_2025_05',
    'audit_events_2025_06',
    'audit_events_2025_07',
    'audit_events_2025_08',
    'audit_events_2025_09',
  ]);
  expect(applied.stages.map((s) => `${s.stage}:${s.ok}`)).toContain('verify:true');
});

interface PgError {
  readonly code?: string;
  readonly message: string;
  readonly column?: string;
}

async function failure(promise: Promise<unknown>): Promise<PgError> {
  try {
    await promise;
  } catch (error) {
    return error as PgError;
  }
  throw new Error('expected the statement to fail, it succeeded');
}

let sequence = 0;

async function insertEvent(overrides: Partial<Insertable<Database['audit_events']>> = {}) {
  sequence += 1;
  return db
    .insertInto('audit_events')
    .values({
      event_timestamp: '2025-06-10T08:00:00Z',
      event_date: '2025-06-10',
      event_type: 'gateway.signal.received',
      event_category: 'gateway',
      event_action: 'received',
      event_outcome: 'success',
      correlation_id: `rr-${sequence}`,
      resource_type: 'Pod',
      resource_id: `pod-${sequence}`,
      actor_type: 'service',
      actor_id: 'gateway',
      event_data: { signal: 'HighMemory', sequence },
      ...overrides,
    })
    .returning(['event_id', 'event_date', 'correlation_id', sql<string>`event_date::text`.as('event_day')])
    .executeTakeFirstOrThrow();
}

describe('audit_events', () => {
  test('event_date is set to the UTC date of event_timestamp', async () => {
    // 23:30 at UTC-5 on June 15 is June 16 in UTC.
    const row = await insertEvent({ event_timestamp: '2025-06-15T23:30:00-05:00', event_date: '2025-06-15' });
    expect(row.event_day).toBe('2025-06-16');
  });

  test('a row whose timestamp falls in another month than its event_date fails: writers must send the date', async () => {
    const error = await failure(insertEvent({ event_timestamp: '2025-07-01T00:30:00Z', event_date: '2025-06-30' }));
    expect(error.message).toMatch(/another partition/);
  });

  test('an insert outside every partition fails loudly', async () => {
    const error = await failure(insertEvent({ event_timestamp: '2030-01-15T00:00:00Z', event_date: '2030-01-15' }));
    expect(error.code).toBe('23514');
    expect(error.message).toMatch(/no partition of relation "audit_events" found for row/);
  });

  const immutable = {
    event_data: { tampered: true },
    event_type: 'tampered.type',
    event_outcome: 'failure',
    actor_id: 'intruder',
    actor_type: 'user',
    correlation_id: 'rr-tampered',
    event_action: 'tampered',
    resource_type: 'Node',
    resource_id: 'node-tampered',
    event_category: 'tampered',
  } as const;

  test.each(Object.entries(immutable))('changing %s is refused with 23514 naming the column', async (column, value) => {
    const row = await insertEvent();
    const error = await failure(
      db
        .updateTable('audit_events')
        .set({ [column]: value })
        .where('event_id', '=', row.event_id)
        .execute(),
    );
    expect(error.code).toBe('23514');
    expect(error.message).toContain(column);
    expect(error.column).toBe(column);
  });

  test('columns outside the immutable set may change, and rewriting event_data unchanged is no change', async () => {
    const row = await insertEvent({ event_data: { a: 1, b: 2 } });
    await db
      .updateTable('audit_events')
      .set({ severity: 'high', event_data: { b: 2, a: 1 } })
      .where('event_id', '=', row.event_id)
      .execute();
    const after = await db.selectFrom('audit_events').select('severity').where('event_id', '=', row.event_id).executeTakeFirstOrThrow();
    expect(after.severity).toBe('high');
  });

  test('removing a legal hold is refused without the release setting', async () => {
    const row = await insertEvent();
    await db.updateTable('audit_events').set({ legal_hold: true }).where('event_id', '=', row.event_id).execute();
    for (const setting of [null, 'yes', 'Authorized']) {
      const error = await failure(
        db.transaction().execute(async (trx) => {
          if (setting !== null) await sql`select set_config('kubernaut.legal_hold_release', ${setting}, true)`.execute(trx);
          await trx.updateTable('audit_events').set({ legal_hold: false }).where('event_id', '=', row.event_id).execute();
        }),
      );
      expect(error.code).toBe('23514');
      expect(error.message).toContain('legal hold');
    }
    const error = await failure(
      db.updateTable('audit_events').set({ legal_hold: null }).where('event_id', '=', row.event_id).execute(),
    );
    expect(error.code).toBe('23514');
  });

  test("removing a legal hold is allowed when kubernaut.legal_hold_release is 'authorized'", async () => {
    const row = await insertEvent({ legal_hold: true });
    await db.transaction().execute(async (trx) => {
      await sql`set local kubernaut.legal_hold_release = 'authorized'`.execute(trx);
      await trx.updateTable('audit_events').set({ legal_hold: false }).where('event_id', '=', row.event_id).execute();
    });
    const after = await db.selectFrom('audit_events').select('legal_hold').where('event_id', '=', row.event_id).executeTakeFirstOrThrow();
    expect(after.legal_hold).toBe(false);
  });

  test('a row under legal hold cannot be deleted (23503, naming event_id and correlation_id)', async () => {
    const row = await insertEvent({ legal_hold: true });
    const error = await failure(db.deleteFrom('audit_events').where('event_id', '=', row.event_id).execute());
    expect(error.code).toBe('23503');
    expect(error.message).toContain(`event_id=${row.event_id}`);
    expect(error.message).toContain(`correlation_id=${row.correlation_id}`);
  });

  test('a row without legal hold and without children can be deleted', async () => {
    const row = await insertEvent();
    const result = await db.deleteFrom('audit_events').where('event_id', '=', row.event_id).executeTakeFirst();
    expect(result.numDeletedRows).toBe(1n);
  });

  test('a parent event cannot be deleted while a child names it; it can once the child is gone', async () => {
    const parent = await insertEvent();
    const child = await insertEvent({
      event_timestamp: '2025-07-02T10:00:00Z',
      event_date: '2025-07-02',
      parent_event_id: parent.event_id,
      parent_event_date: parent.event_day,
    });
    const error = await failure(db.deleteFrom('audit_events').where('event_id', '=', parent.event_id).execute());
    expect(error.code).toBe('23503');
    expect(error.message).toContain(`event_id=${parent.event_id}`);

    await db.deleteFrom('audit_events').where('event_id', '=', child.event_id).execute();
    const result = await db.deleteFrom('audit_events').where('event_id', '=', parent.event_id).executeTakeFirst();
    expect(result.numDeletedRows).toBe(1n);
  });
});

describe('updated_at', () => {
  const LONG_AGO = '2000-01-01T00:00:00Z';

  async function isRecent(table: string, where: { column: string; value: unknown }): Promise<boolean> {
    const { rows } = await sql<{ recent: boolean }>`
      select updated_at > now() - interval '1 hour' as recent
      from ${sql.table(table)} where ${sql.ref(where.column)} = ${where.value}`.execute(db);
    return rows[0]!.recent;
  }

  test('is set by the shared update_updated_at() on action_type_taxonomy', async () => {
    await db
      .insertInto('action_type_taxonomy')
      .values({ action_type: 'RestartPod', description: { what: 'restart' }, updated_at: LONG_AGO })
      .execute();
    expect(await isRecent('action_type_taxonomy', { column: 'action_type', value: 'RestartPod' })).toBe(false);
    await db.updateTable('action_type_taxonomy').set({ status: 'Disabled' }).where('action_type', '=', 'RestartPod').execute();
    expect(await isRecent('action_type_taxonomy', { column: 'action_type', value: 'RestartPod' })).toBe(true);
  });

  test('is set on oscillation_patterns', async () => {
    await db.updateTable('oscillation_patterns').set({ updated_at: LONG_AGO }).where('pattern_name', '=', 'ineffective-loop').execute();
    // The trigger overrides even an explicit value: updated_at always means "last written".
    expect(await isRecent('oscillation_patterns', { column: 'pattern_name', value: 'ineffective-loop' })).toBe(true);
  });

  test('is set on action_histories', async () => {
    const resource = await db
      .insertInto('resource_references')
      .values({ resource_uid: '6f1c1c9e-0000-4000-8000-000000000001', api_version: 'v1', kind: 'Pod', name: 'web-0', namespace: 'shop' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.insertInto('action_histories').values({ resource_id: resource.id, updated_at: LONG_AGO }).execute();
    expect(await isRecent('action_histories', { column: 'resource_id', value: resource.id })).toBe(false);
    await db.updateTable('action_histories').set({ total_actions: 1 }).where('resource_id', '=', resource.id).execute();
    expect(await isRecent('action_histories', { column: 'resource_id', value: resource.id })).toBe(true);
  });

  test('is set by its own function on remediation_workflow_catalog', async () => {
    await db.insertInto('action_type_taxonomy').values({ action_type: 'ScaleUp', description: { what: 'scale' } }).execute();
    const workflow = await db
      .insertInto('remediation_workflow_catalog')
      .values({
        workflow_name: 'scale-up',
        version: '1.0.0',
        name: 'Scale up',
        content: 'apiVersion: tekton.dev/v1',
        content_hash: 'a'.repeat(64),
        action_type: 'ScaleUp',
        updated_at: LONG_AGO,
      })
      .returning('workflow_id')
      .executeTakeFirstOrThrow();
    expect(await isRecent('remediation_workflow_catalog', { column: 'workflow_id', value: workflow.workflow_id })).toBe(false);
    await db
      .updateTable('remediation_workflow_catalog')
      .set({ is_latest_version: true })
      .where('workflow_id', '=', workflow.workflow_id)
      .execute();
    expect(await isRecent('remediation_workflow_catalog', { column: 'workflow_id', value: workflow.workflow_id })).toBe(true);
  });
});

describe('seed rows', () => {
  test('audit_retention_policies: six categories, 2555 days, no legal hold override', async () => {
    const rows = await db
      .selectFrom('audit_retention_policies')
      .select(['event_category', 'retention_days', 'legal_hold_override'])
      .orderBy('event_category')
      .execute();
    expect(rows).toEqual(
      ['analysis', 'apifrontend', 'gateway', 'notification', 'remediation', 'workflow'].map((event_category) => ({
        event_category,
        retention_days: 2555,
        legal_hold_override: false,
      })),
    );
  });

  test('oscillation_patterns: the four shipped patterns, active, severity warning', async () => {
    const rows = await db
      .selectFrom('oscillation_patterns')
      .select(['pattern_name', 'pattern_type', 'min_occurrences', 'time_window_minutes', 'prevention_strategy', 'active', 'alert_severity'])
      .orderBy('id')
      .execute();
    const expected = [
      ['scale-oscillation', 3, 120, 'cooling-period'],
      ['resource-thrashing', 2, 90, 'alternative-action'],
      ['ineffective-loop', 4, 180, 'escalate-human'],
      ['cascading-failure', 2, 60, 'block-action'],
    ] as const;
    expect(rows).toEqual(
      expected.map(([name, min, window, prevention]) => ({
        pattern_name: name,
        pattern_type: name,
        min_occurrences: min,
        time_window_minutes: window,
        prevention_strategy: prevention,
        active: true,
        alert_severity: 'warning',
      })),
    );
  });
});

describe('views', () => {
  test('oscillation_detection_summary lists every pattern type, with zero detections before any', async () => {
    const rows = await db.selectFrom('oscillation_detection_summary').selectAll().orderBy('pattern_type').execute();
    expect(rows.map((r) => [r.pattern_type, r.total_detections])).toEqual([
      ['cascading-failure', '0'],
      ['ineffective-loop', '0'],
      ['resource-thrashing', '0'],
      ['scale-oscillation', '0'],
    ]);
  });

  test('effectiveness_trends computes a resolution rate per action type and day', async () => {
    await db
      .insertInto('effectiveness_results')
      .values([
        { trace_id: 't-1', action_type: 'RestartPod', overall_score: 0.8, alert_resolved: true, confidence: 0.9, assessed_at: '2025-06-10T10:00:00Z' },
        { trace_id: 't-2', action_type: 'RestartPod', overall_score: 0.4, alert_resolved: false, confidence: 0.7, assessed_at: '2025-06-10T11:00:00Z' },
      ])
      .execute();
    const row = await db.selectFrom('effectiveness_trends').selectAll().where('action_type', '=', 'RestartPod').executeTakeFirstOrThrow();
    expect(row.total_assessments).toBe('2');
    expect(row.alerts_resolved).toBe('1');
    expect(row.resolution_rate).toBe(0.5);
    expect(row.avg_effectiveness).toBeCloseTo(0.6);
  });

  test('low_confidence_actions shows low-confidence pairs, with their recent outcomes', async () => {
    await db
      .insertInto('action_confidence_scores')
      .values([
        { action_type: 'RestartPod', context_hash: 'c1', base_confidence: 0.5, adjusted_confidence: 0.3 },
        { action_type: 'ScaleUp', context_hash: 'c1', base_confidence: 0.5, adjusted_confidence: 0.9 },
      ])
      .execute();
    // The view counts the last 7 days of the database's clock, so the outcomes are dated by it.
    const recent = sql<string>`now() - interval '1 minute'`;
    await db
      .insertInto('action_outcomes')
      .values([
        { trace_id: 'o-1', action_type: 'RestartPod', context_hash: 'c1', success: true, effectiveness_score: 0.9, executed_at: recent, alert_resolved: true },
        { trace_id: 'o-2', action_type: 'RestartPod', context_hash: 'c1', success: false, effectiveness_score: 0.1, executed_at: recent, alert_resolved: false },
      ])
      .execute();
    const rows = await db.selectFrom('low_confidence_actions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action_type: 'RestartPod', context_hash: 'c1', recent_samples: '2' });
    expect(Number(rows[0]!.recent_success_rate)).toBe(0.5);
  });
});
