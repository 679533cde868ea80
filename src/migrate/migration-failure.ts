import { MigrationError } from '../errors/errors.ts';

interface PgErrorFields {
  message?: string;
  code?: string;
  position?: string;
  detail?: string;
  hint?: string;
  where?: string;
  statementIndex?: number;
  statementCount?: number;
  /** goose: the line of the file where the failed statement begins. */
  statementLine?: number;
}

/**
 * Turns what a migration threw into a MigrationError that names the migration and carries
 * Postgres's message, SQLSTATE and position (and goose's statement number) for the user.
 */
export function migrationFailure(action: 'apply' | 'roll back', migration: { name: string; file: string; transactional?: boolean }, error: unknown): MigrationError {
  if (error instanceof MigrationError) return error;
  const pg = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as PgErrorFields;
  const facts = [
    pg.code ? `SQLSTATE ${pg.code}` : undefined,
    pg.position ? `position ${pg.position}` : undefined,
    pg.statementIndex ? `statement ${pg.statementIndex} of ${pg.statementCount}${pg.statementLine ? `, ${migration.file.split('/').pop()}:${pg.statementLine}` : ''}` : undefined,
  ].filter(Boolean);
  const extra = [pg.detail && `detail: ${pg.detail}`, pg.hint && `hint: ${pg.hint}`].filter(Boolean);
  const message =
    `could not ${action} migration "${migration.name}": ${pg.message ?? 'unknown error'}` +
    (facts.length ? ` (${facts.join(', ')})` : '') +
    (extra.length ? `\n  ${extra.join('\n  ')}` : '') +
    (action !== 'apply'
      ? ''
      : migration.transactional === false
        ? '\n  it runs outside a transaction (NO TRANSACTION): the statements before the failed one stay applied, and it is not recorded as applied'
        : '\n  its transaction was rolled back; nothing of it was applied');
  return new MigrationError(
    message,
    {
      migration: migration.name,
      file: migration.file,
      ...(pg.code ? { sqlState: pg.code } : {}),
      ...(pg.position ? { position: Number(pg.position) } : {}),
    },
    { cause: error },
  );
}
