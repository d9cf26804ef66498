/** Built-in jobs, by name. `sluice list` prints them; `sluice run <name>` loads one. */
export const builtinJobs: Record<string, { href: string; description: string }> = {
  'orders-payments-demo': {
    href: new URL('./orders-payments-demo.ts', import.meta.url).href,
    description: 'Embedded demo: generated orders and payments (seed 001 shapes), keyed by order_id, into local files. No servers.',
  },
  'keyed-count': {
    href: new URL('./keyed-count.ts', import.meta.url).href,
    description: 'Counts records per key from a Kafka topic (JSON {key}) into an upsert Kafka topic, or from a generator into files.',
  },
};
