export default {
  testMatch: ['<rootDir>/test/**/*.test.cjs'],
  globalSetup: 'e2e-migrations/jest/global-setup',
  globalTeardown: 'e2e-migrations/jest/global-teardown',
  // Jest warns about unknown top-level keys; testEnvironmentOptions carries the block quietly.
  testEnvironmentOptions: {
    migrations: { tables: ['notification_audit'] },
  },
};
