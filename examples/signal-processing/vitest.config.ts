import { defineConfig } from 'vitest/config';
import 'e2e-migrations/vitest';

// SignalProcessing: writes audit events only. Standalone (`npx vitest run --root examples/signal-processing`) it
// gets its own embedded Postgres; under `npm start` the target is the shared server
// (E2E_MIGRATIONS_TARGET_URL). Against Kind: { namespace: 'kubernaut-system', kindCluster: 'signalprocessing-e2e', tables: [...] }.
export default defineConfig({
  test: {
    name: 'signalprocessing',
    include: ['*.test.ts'],
    globalSetup: ['e2e-migrations/vitest'],
    migrations: {
      tables: ['audit_events'],
    },
  },
});
