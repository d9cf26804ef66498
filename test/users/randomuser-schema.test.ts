/**
 * The randomuser JSON Schema on every recorded user and on variants derived
 * from them (the recordings stay byte-for-byte; variants are made here), and
 * the row mapping of the seeds' table.
 */
import { describe, expect, it } from 'vitest';
import { validateRandomUser, type RandomUserResult } from '../../jobs/users/randomuser-schema.ts';
import { formatAddress, toCreatedUserRow, userId, uuidV5 } from '../../jobs/users/user-row.ts';
import { recordedUsers, type RandomUser } from '../helpers/randomuser-server.ts';

const users = recordedUsers();
const first = (): RandomUser => structuredClone(users[0]);
type Loc = { postcode: unknown; street: unknown };
const loc = (u: RandomUser): Loc => u.location as Loc;

describe('randomuser schema', () => {
  it('accepts every recorded user of both recordings (API 1.3 US, 1.4 BR)', () => {
    expect(users).toHaveLength(201);
    const failures = users.map((u) => validateRandomUser(u)).filter((r) => r !== undefined);
    expect(failures).toEqual([]);
  });

  it('accepts postcode as a number and as a string, as different countries send it', () => {
    const asNumber = first();
    expect(typeof loc(asNumber).postcode).toBe('number');
    expect(validateRandomUser(asNumber)).toBeUndefined();
    for (const pc of ['T5J 3X4', 'N8 7XP', '01234', 'D02 X285']) {
      const u = first();
      loc(u).postcode = pc;
      expect(validateRandomUser(u)).toBeUndefined();
    }
  });

  it('accepts the pre-1.3 street string and a null national id', () => {
    const u = first();
    loc(u).street = '7925 e center st';
    (u.id as { value: unknown }).value = null;
    expect(validateRandomUser(u)).toBeUndefined();
  });

  it('rejects wrong types and missing fields, listing every error with its path', () => {
    const u = first();
    loc(u).postcode = { code: 64228 };
    delete (u.login as Partial<RandomUser['login']>).uuid;
    (u.dob as { date: string }).date = 'yesterday';
    delete u.email;
    const why = validateRandomUser(u)!;
    expect(why).toContain('/location/postcode must be string,number');
    expect(why).toContain("/login must have required property 'uuid'");
    expect(why).toContain('/dob/date must match format "date-time"');
    expect(why).toContain("/ must have required property 'email'");
  });

  it('rejects a malformed login.uuid, a street number that is not an integer, and non-objects', () => {
    const u = first();
    u.login.uuid = 'not-a-uuid';
    expect(validateRandomUser(u)).toContain('/login/uuid must match format "uuid"');
    const s = first();
    loc(s).street = { number: '12b', name: 'Main St' };
    expect(validateRandomUser(s)).toContain('/location/street');
    expect(validateRandomUser(null)).toBe('/ must be object');
    expect(validateRandomUser('{"gender":"male"}')).toBe('/ must be object');
  });

  it('reads dates as strict ISO 8601 instants (a real calendar date, an explicit offset or Z)', () => {
    for (const date of ['2024-01-01 00:05:01Z', '2024-01-01T00:05:01', '2024-02-30T00:00:00Z', '01/02/2024', '0', '2024-01-01T00:05:01+0100']) {
      const u = first();
      (u.dob as { date: string }).date = date;
      expect(validateRandomUser(u), date).toContain('/dob/date must match format "date-time"');
    }
    const ok = first();
    (ok.registered as { date: string }).date = '2024-01-01T00:05:01.123+01:00';
    expect(validateRandomUser(ok)).toBeUndefined();
  });
});

describe('created_users row', () => {
  it('UUIDv5 matches the RFC test vector, and ids are deterministic and distinct', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    const ids = users.map((u) => userId(u.login.uuid));
    expect(new Set(ids).size).toBe(users.length);
    expect(users.map((u) => userId(u.login.uuid))).toEqual(ids);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('maps the first recorded user column by column', () => {
    const row = toCreatedUserRow(users[0] as unknown as RandomUserResult);
    expect(row).toEqual({
      id: userId('c0ec27f9-abb5-495b-98c9-77b8e60b50d0'),
      first_name: 'Ricky',
      last_name: 'Alexander',
      gender: 'male',
      address: '7925 E Center St, Lewisville, Wisconsin, United States',
      post_code: '64228',
      email: 'ricky.alexander@example.com',
      username: 'silverlion505',
      dob: '1969-03-13T21:19:23.253Z',
      registered_date: '2014-08-26T21:39:22.469Z',
      phone: '(830)-730-8092',
      picture: 'https://randomuser.me/api/portraits/med/men/50.jpg',
    });
  });

  it('post_code is always text, and the Brazilian user maps too', () => {
    const br = users[200] as unknown as RandomUserResult;
    expect(toCreatedUserRow(br)).toMatchObject({ address: '6972 Rua Vinte E Quatro de Outubro, Cotia, Bahia, Brazil', post_code: '32158' });
    const ca = structuredClone(br);
    ca.location.postcode = 'T5J 3X4';
    expect(toCreatedUserRow(ca).post_code).toBe('T5J 3X4');
    expect(formatAddress({ ...ca.location, street: '12 rue x' })).toBe('12 rue x, Cotia, Bahia, Brazil');
  });
});
