import { defineConfig } from 'vitest/config';
import 'e2e-migrations/vitest';

// DataStorage owns the schema: every table, every view.
export default defineConfig({
  test: {
    name: 'datastorage',
    include: ['*.test.ts'],
    globalSetup: ['e2e-migrations/vitest'],
    migrations: {
      tables: 'all',
    },
  },
});
