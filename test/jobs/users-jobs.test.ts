/**
 * The users transform, tested as a user tests their own job: the
 * users-to-cassandra and users-raw-to-postgres jobs through `sluice/testing`
 * (real partition actors, LMDB state and checkpoints; no Kafka, Cassandra or
 * PostgreSQL). The recorded randomuser results go in as the JSON text Kafka
 * carries, keyed by login.uuid, across a crash; the rows are what the
 * tables would hold after their upserts, checked field by field against the
 * API's own fields, and what is not a user is a dead letter with the reason.
 */
import { describe, expect, it } from 'vitest';
import { CRASH_POINTS, TestDriver, type OutputRecord } from '../../api/testing.ts';
import toCassandra from '../../jobs/users-to-cassandra.ts';
import rawToPostgres from '../../jobs/users-raw-to-postgres.ts';
import { userId, type CreatedUserRow } from '../../jobs/users/user-row.ts';
import { recordedUsers, type RandomUser } from '../helpers/randomuser-server.ts';

const users = recordedUsers();

interface ApiUser {
  login: { uuid: string; username: string };
  name: { first: string; last: string };
  gender: string;
  email: string;
  phone: string;
  dob: { date: string };
  registered: { date: string };
  picture: { medium: string };
  location: { street: string | { number: number; name: string }; city: string; state: string; country: string; postcode: number | string };
}

/** A Cassandra upsert by primary key: the last row of an id wins. */
function byId(records: Array<OutputRecord<CreatedUserRow>>): Map<string, CreatedUserRow> {
  return new Map(records.map((r) => [r.value.id, r.value]));
}

describe('users-to-cassandra (sluice/testing)', () => {
  for (const crashAt of [undefined, ...CRASH_POINTS]) {
    it(`maps every recorded user to its created_users row, once per id${crashAt ? `, through a crash ${crashAt}` : ''}`, async () => {
      const t = new TestDriver(toCassandra, { partitions: 4 });
      try {
        users.forEach((u, i) => {
          t.pipeRaw('users', JSON.stringify(u), { key: u.login.uuid });
          if (i === 60) t.pipeRaw('users', JSON.stringify({ ...structuredClone(users[3]), login: { username: 'no-uuid' } }), { key: 'x' });
          if (i === 61) t.pipeRaw('users', '{"truncated": ', { key: 'y' });
        });
        await t.checkpoint({ crashAt });
        // A replay of the first 50 (a producer retry): the upsert rewrites the same rows.
        for (const u of users.slice(0, 50)) t.pipeRaw('users', JSON.stringify(u), { key: u.login.uuid });
        await t.finish();

        const rows = byId(t.outputRecords<CreatedUserRow>('rows'));
        expect(rows.size).toBe(users.length);
        for (const raw of users) {
          const u = raw as unknown as ApiUser;
          const street = typeof u.location.street === 'string' ? u.location.street : `${u.location.street.number} ${u.location.street.name}`;
          expect(rows.get(userId(u.login.uuid))).toEqual({
            id: userId(u.login.uuid),
            first_name: u.name.first,
            last_name: u.name.last,
            gender: u.gender,
            address: `${street}, ${u.location.city}, ${u.location.state}, ${u.location.country}`,
            post_code: String(u.location.postcode),
            email: u.email,
            username: u.login.username,
            dob: u.dob.date,
            registered_date: u.registered.date,
            phone: u.phone,
            picture: u.picture.medium,
          });
        }
        // Records are keyed by login.uuid: each row comes out of its key's partition.
        for (const r of t.outputRecords<CreatedUserRow>('rows').slice(0, 20)) {
          const u = users.find((x) => userId(x.login.uuid) === r.value.id)!;
          expect(r.partition).toBe(t.partitionOf(u.login.uuid));
        }
        const dead = t.deadLetters().sort((a, b) => a.reason.localeCompare(b.reason));
        expect(dead.map((d) => d.reason)).toEqual(['decode_error', 'validation_failed']);
        expect(dead[1].error?.message).toContain("/login must have required property 'uuid'");
      } finally {
        await t.close();
      }
    });
  }
});

describe('users-raw-to-postgres (sluice/testing)', () => {
  it('keeps each user\'s payload with the Kafka timestamp it was ingested at; a replay carries the same payload, later', async () => {
    const t = new TestDriver(rawToPostgres, { partitions: 2 });
    try {
      const sample = users.slice(0, 40);
      sample.forEach((u, i) => t.pipe('users', u, { key: u.login.uuid, time: 1_000 + i }));
      await t.checkpoint({ crashAt: 'after-commit' });
      // users-ingest redelivers after its own crash: the same users, fetched again later.
      sample.slice(10, 30).forEach((u, i) => t.pipe('users', u, { key: u.login.uuid, time: 5_000 + i }));
      t.pipe('users', { login: { uuid: 'not-a-uuid' } } as unknown as RandomUser, { key: 'z' });
      await t.finish();

      const recs = t.outputRecords<RandomUser>('raw');
      expect(recs).toHaveLength(60);
      // What the table holds after ON CONFLICT: per id the earliest ingested_at and the payload.
      const table = new Map<string, { payload: string; ingestedAt: number }>();
      for (const r of recs) {
        const id = userId(r.value.login.uuid);
        const prev = table.get(id);
        table.set(id, { payload: JSON.stringify(r.value), ingestedAt: Math.min(prev?.ingestedAt ?? Infinity, r.time) });
      }
      expect(table.size).toBe(40);
      sample.forEach((u, i) => expect(table.get(userId(u.login.uuid))).toEqual({ payload: JSON.stringify(u), ingestedAt: 1_000 + i }));
      expect(t.deadLetters().map((d) => [d.reason, d.error?.message])).toEqual([['validation_failed', 'no login.uuid (a UUID) to derive the row id from']]);
    } finally {
      await t.close();
    }
  });
});
