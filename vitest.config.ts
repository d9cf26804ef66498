import { configDefaults, defineConfig } from 'vitest/config';

// Two projects:
//   unit         everything under test/ except test/integration; no broker.
//   integration  test/integration; its global setup starts a real Kafka broker
//                (or reuses the one named by SLUICE_KAFKA_BROKERS).
// `npx vitest run --project unit` therefore never needs Java.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Global teardown stops the broker (SIGTERM, up to 30s before SIGKILL);
    // the default 10s would cut that short.
    teardownTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/integration/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/servers-global-setup.ts', 'test/setup/kafka-global-setup.ts'],
          // One broker, shared: files run one after another in a single fork
          // so they do not compete for it (or for the two CPU cores CI has).
          // This is the per-project form of `fileParallelism: false`, which
          // vitest only accepts at the root, where it would also serialise
          // the unit tests.
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
