import { defineConfig } from 'vitest/config';
import { e2eMigrations } from 'e2e-migrations/vitest';

// AIAnalysis: audit events plus the workflow catalog it recommends from. Asking for
// remediation_workflow_catalog brings action_type_taxonomy (its foreign key) along.
// Written in the one-call form; same as globalSetup + migrations by hand.
export default defineConfig({
  test: {
    name: 'aianalysis',
    include: ['*.test.ts'],
    ...e2eMigrations({
      tables: ['audit_events', 'remediation_workflow_catalog'],
    }),
  },
});
