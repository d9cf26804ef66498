import { describe, expect, it } from 'vitest';
import { ErrorCodes, SluiceError } from '../../../engine/errors.ts';
import { errorType } from '../../../engine/kafka/admin.ts';
import { createKafka, toKafkaError } from '../../../engine/kafka/client.ts';

describe('kafka client plumbing', () => {
  it('refuses a config without brokers', () => {
    expect(() => createKafka({ brokers: [], clientId: 'x' }, 'admin')).toThrow(SluiceError);
  });

  it('wraps kafkajs errors as KAFKA errors, keeping the cause and the retriable flag', () => {
    const cause = Object.assign(new Error('leader moved'), { retriable: true, type: 'NOT_LEADER_FOR_PARTITION' });
    const e = toKafkaError(cause, 'send');
    expect(e.code).toBe(ErrorCodes.KAFKA);
    expect(e.retryable).toBe(true);
    expect(e.message).toBe('send: leader moved [NOT_LEADER_FOR_PARTITION]');
    expect(e.cause).toBe(cause);
    expect(toKafkaError(new Error('bad'), 'x').retryable).toBe(false);
    expect(toKafkaError('text', 'x').message).toBe('x: text');
    const exhausted = Object.assign(new Error('gave up'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false });
    expect(toKafkaError(exhausted, 'x').retryable).toBe(true);
  });

  it('passes SluiceErrors through unchanged', () => {
    const e = new SluiceError(ErrorCodes.CONFIG, 'no');
    expect(toKafkaError(e, 'x')).toBe(e);
  });

  it('finds a protocol error type through retry wrappers', () => {
    const inner = Object.assign(new Error('x'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(errorType(new Error('outer', { cause: new Error('mid', { cause: inner }) }))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(errorType(new Error('plain'))).toBeUndefined();
    expect(errorType(null)).toBeUndefined();
  });
});
