import { describe, expect, it } from 'vitest';
import { ErrorCodes, SluiceError } from '../../../engine/errors.ts';
import { MultipleErrors, NetworkError, ProtocolError, ResponseError } from '@platformatic/kafka';
import { errorType } from '../../../engine/kafka/admin.ts';
import { createKafka, isFenced, isRecordFault, toKafkaError } from '../../../engine/kafka/client.ts';

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

  it('classifies errors of @platformatic/kafka, the producer client: names the protocol errors, retryable unless the records or the fencing are at fault', () => {
    // Produce(v9) answering MESSAGE_TOO_LARGE for one partition, as the client reports it.
    const tooLarge = new ResponseError(0, 9, { '/responses/0/partitionResponses/0': [10, null] }, {});
    const e = toKafkaError(tooLarge, 'send failed');
    expect(e.code).toBe(ErrorCodes.KAFKA);
    expect(e.message).toMatch(/^send failed: Received response with error while executing API Produce\(v9\) \[MESSAGE_TOO_LARGE\]$/);
    expect(e.cause).toBe(tooLarge);
    expect(e.retryable).toBe(false);
    expect(isRecordFault(tooLarge)).toBe(true);
    expect(isRecordFault(e)).toBe(true);
    expect(isFenced(tooLarge)).toBe(false);

    // EndTxn answering PRODUCER_FENCED; INVALID_PRODUCER_EPOCH is how older request versions say it.
    for (const code of [90, 47]) {
      const fenced = new ResponseError(26, 4, { '/': [code, null] }, {});
      expect(isFenced(fenced)).toBe(true);
      expect(isFenced(toKafkaError(fenced, 'send failed'))).toBe(true);
      expect(toKafkaError(fenced, 'send failed').retryable).toBe(false);
      expect(isRecordFault(fenced)).toBe(false);
    }

    // Infrastructure: a broker gone, a leader moved, retries that ran out on a loading coordinator.
    expect(toKafkaError(new NetworkError('Connection closed'), 'x').retryable).toBe(true);
    const leader = new ResponseError(0, 9, { '/responses/0/partitionResponses/0': [6, null] }, {});
    expect(toKafkaError(leader, 'x')).toMatchObject({ retryable: true, message: expect.stringContaining('[NOT_LEADER_OR_FOLLOWER]') });
    const exhausted = new MultipleErrors('initProducerId failed 9 times.', [new ProtocolError('COORDINATOR_LOAD_IN_PROGRESS'), new ProtocolError('CONCURRENT_TRANSACTIONS')]);
    const x = toKafkaError(exhausted, 'producer failed to connect');
    expect(x.retryable).toBe(true);
    expect(x.message).toContain('[COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS]');
    expect(isFenced(exhausted) || isRecordFault(exhausted)).toBe(false);
  });
});
