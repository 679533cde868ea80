import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keepersOf, runCli, stateFiles } from '../target/embedded/reuse-probe.ts';

/*
 * `--reuse` and `stop` as a user types them. Each test has a TMPDIR of its own: it sees, and
 * stops, only the servers it started.
 */

const KYSELY_BASIC = join(import.meta.dirname, '../migrate/fixtures/kysely-basic');
let tmp: string;

/** The template a run's stage lines name. */
const templateOf = (stderr: string): string | undefined => /template (e2e_tpl_[0-9a-f]+)/.exec(stderr)?.[1];

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'reuse-cli-'));
});

afterEach(async () => {
  await runCli(tmp, ['stop', '--quiet']);
  await rm(tmp, { recursive: true, force: true });
});

describe('e2e-migrations --reuse', () => {
  it('keeps the server for the next call, which finds it; stop stops it', async () => {
    const first = await runCli(tmp, ['apply', '--all', '--reuse'], { CI: '' });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/target +ok .*\(started to be reused, stops after 15 min idle\)/);
    expect(keepersOf(tmp)).toHaveLength(1);

    const second = await runCli(tmp, ['apply', '--all', '--reuse'], { CI: '' });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/target +ok .*\(reused\)/);
    expect(second.stdout).toMatch(/^applied 0, already applied \d+/);

    const stop = await runCli(tmp, ['stop']);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/^stopped embedded Postgres [\d.\w-]+ on 127\.0\.0\.1:\d+ \(kept by pid \d+ since /);
    expect(keepersOf(tmp)).toEqual([]);
    expect(stateFiles(tmp)).toEqual([]);
  });

  it('a server found with other migrations gets a template of those migrations, never the stale one', async () => {
    const shipped = await runCli(tmp, ['apply', '--all', '--reuse'], { CI: '' });
    expect(shipped.code, shipped.stderr).toBe(0);
    const other = await runCli(tmp, ['apply', '--reuse', '--migrations', KYSELY_BASIC], { CI: '' });
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toMatch(/target +ok .*\(reused\)/);
    expect(other.stdout).toMatch(/^applied 3, already applied 0; tables: accounts, orders, events/);
    expect(templateOf(shipped.stderr)).toBeDefined();
    expect(templateOf(other.stderr)).not.toBe(templateOf(shipped.stderr));
    expect(keepersOf(tmp)).toHaveLength(1);
  });

  it('is ignored when CI is set, and one line says so', async () => {
    const run = await runCli(tmp, ['apply', '--all', '--reuse'], { CI: 'true' });
    expect(run.code, run.stderr).toBe(0);
    const said = run.stderr.split('\n').filter((line) => /reuse/.test(line));
    expect(said).toEqual([expect.stringMatching(/reuse: ignored, CI is set \(CI=true\)/)]);
    expect(keepersOf(tmp)).toEqual([]);
    expect(stateFiles(tmp)).toEqual([]);
  });
});
