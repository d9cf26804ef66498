/**
 * kafkajs 2.2.4 arms a timer with a negative delay when a connection has no
 * throttle pending (RequestQueue.scheduleCheckPendingRequests computes
 * `throttledUntil - Date.now()` with throttledUntil = -1). Node clamps it to
 * 1 ms, as it always did, but since Node 24 also prints a
 * TimeoutNegativeWarning for it, two or three per Kafka run (kafkajs issue
 * #1751, unfixed upstream). The behaviour is harmless; the noise is not, so
 * this one warning is dropped, in this thread, when it comes from kafkajs
 * (the stack is checked, so a negative timeout of our own still shows).
 */
const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
let installed = false;

export function silenceKafkajsNegativeTimeouts(): void {
  if (installed) return;
  installed = true;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'TimeoutNegativeWarning' && /kafkajs[\\/]src[\\/]network/.test(new Error().stack ?? '')) return;
    original(warning, ...rest);
  }) as typeof process.emitWarning;
}

silenceKafkajsNegativeTimeouts();
