/** Credential redaction and error classification of the MongoDB sink (no server needed). */
import { MongoNetworkError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isRetryableMongoError, redactUri } from '../../../engine/sinks/mongo-sink.ts';

describe('redactUri', () => {
  it('hides passwords, keeps user and host', () => {
    expect(redactUri('mongodb://alice:pw@h:27017/db')).toBe('mongodb://alice:***@h:27017/db');
    expect(redactUri('failed: mongodb+srv://bob:p%40ss@cluster.example.net/?x=1 then')).toBe('failed: mongodb+srv://bob:***@cluster.example.net/?x=1 then');
    expect(redactUri('mongodb://tokenonly@h/')).toBe('mongodb://***@h/');
    expect(redactUri('mongodb://h1,h2/db')).toBe('mongodb://h1,h2/db');
  });
});

describe('isRetryableMongoError', () => {
  it('network errors and stepping-down primaries are retryable; validation errors are not', () => {
    expect(isRetryableMongoError(new MongoNetworkError('reset'))).toBe(true);
    expect(isRetryableMongoError(new MongoServerError({ code: 10107, errmsg: 'not primary' }))).toBe(true);
    expect(isRetryableMongoError(new MongoServerError({ code: 2, errmsg: 'bad value' }))).toBe(false);
    expect(isRetryableMongoError(new Error('plain'))).toBe(false);
    expect(isRetryableMongoError('text')).toBe(false);
  });
});
