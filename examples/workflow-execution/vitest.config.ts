import { defineConfig } from 'vitest/config';
import 'e2e-migrations/vitest';

// WorkflowExecution: writes audit events only. Standalone (`npx vitest run --root examples/workflow-execution`) it
// gets its own embedded Postgres; under `npm start` the target is the shared server
// (E2E_MIGRATIONS_TARGET_URL). Against Kind: { namespace: 'kubernaut-system', kindCluster: 'workflowexecution-e2e', tables: [...] }.
export default defineConfig({
  test: {
    name: 'workflowexecution',
    include: ['*.test.ts'],
    globalSetup: ['e2e-migrations/vitest'],
    migrations: {
      tables: ['audit_events'],
    },
  },
});
