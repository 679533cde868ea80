import type { Reporter } from '../report/reporter.ts';
import type { StartedTarget } from '../target/target.ts';

/** Closes a target as the reported `teardown` stage. */
export async function closeTarget(target: StartedTarget, reporter: Reporter): Promise<void> {
  await reporter.stage('teardown', async (progress) => {
    await target.close();
    progress.done(`closed ${target.description}`);
  });
}
