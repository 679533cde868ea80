// Notification runs on Jest. The block goes in testEnvironmentOptions: Jest checks its
// config and warns about an unknown top-level "migrations" key, but passes
// testEnvironmentOptions through to the global setup. (Or keep it in
// e2e-migrations.config.json next to this file.)
export default {
  displayName: 'notification',
  testMatch: ['<rootDir>/*.test.cjs'],
  // CommonJS tests run without any transform; the global hooks are loaded by Node itself.
  transform: {},
  globalSetup: 'e2e-migrations/jest/global-setup',
  globalTeardown: 'e2e-migrations/jest/global-teardown',
  testEnvironmentOptions: {
    migrations: {
      tables: ['audit_events'],
    },
  },
};
