import { defineConfig } from 'vitest/config';
import 'e2e-migrations/vitest'; // types the `migrations` block

export default defineConfig({
  test: {
    include: ['test/**/*.e2e.ts'],
    globalSetup: ['e2e-migrations/vitest'],
    migrations: {
      tables: ['audit_events'],
      // Kind: namespace: 'kubernaut-system', kindCluster: 'gateway-e2e'
      // URL:  url: 'postgres://slm_user:test_password@localhost:5432/action_history'
      // none: an embedded Postgres 16 is started for the run
    },
  },
});
