import { defineConfig } from 'vitest/config';

// Tests that need a real Kafka broker live under test/integration; the global
// setup starts one (or reuses SLUICE_KAFKA_BROKERS) only when such tests run.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
