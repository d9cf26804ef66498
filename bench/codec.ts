/**
 * Value codec benchmark for keyed state: @msgpack/msgpack vs msgpackr.
 *
 *   node --import tsx bench/codec.ts
 *
 * Payloads are what operators keep in state: a realistic 8-field record, a
 * small integer counter, a float and a short string. Each codec is measured
 * with its reusable instance API (the fastest form of each), and msgpackr also
 * with records enabled (its default, non-standard wire format) for reference.
 * Results: bench/results/<date>-codec.json.
 */
import { Encoder, Decoder } from '@msgpack/msgpack';
import { Packr } from 'msgpackr';
import { measure, writeResults, type Timing } from './state-harness.ts';

interface Codec {
  name: string;
  encode(v: unknown): Uint8Array;
  decode(b: Uint8Array): unknown;
}

const mpEncoder = new Encoder();
const mpDecoder = new Decoder();
const plain = new Packr({ useRecords: false });
const records = new Packr();

const codecs: Codec[] = [
  { name: '@msgpack/msgpack', encode: (v) => mpEncoder.encode(v), decode: (b) => mpDecoder.decode(b) },
  { name: 'msgpackr useRecords:false', encode: (v) => plain.pack(v), decode: (b) => plain.unpack(b) },
  { name: 'msgpackr records (default)', encode: (v) => records.pack(v), decode: (b) => records.unpack(b) },
];

const payloads: Record<string, unknown> = {
  'record-8-fields': {
    orderId: 'ord-00012345',
    customerId: 48213,
    amount: 129.95,
    currency: 'EUR',
    status: 'PAID',
    items: 3,
    ts: 1718000000123,
    region: 'eu-west-1',
  },
  'small-int': 12345,
  float: 0.125 + 1234.5,
  'short-string': 'user-4821',
};

const N = 300_000;
const results: Array<{ codec: string; payload: string; op: string; bytes: number } & Timing> = [];
let sink = 0;

for (const [payloadName, value] of Object.entries(payloads)) {
  for (const c of codecs) {
    const encoded = c.encode(value);
    // Keep a private copy: some encoders return views of a reusable buffer.
    const bytes = Uint8Array.from(encoded);
    const back = c.decode(bytes);
    if (JSON.stringify(back) !== JSON.stringify(value)) throw new Error(`${c.name} round trip failed for ${payloadName}`);
    const enc = measure(N, (n) => {
      for (let i = 0; i < n; i++) sink += c.encode(value).length;
    });
    const dec = measure(N, (n) => {
      for (let i = 0; i < n; i++) if (c.decode(bytes) !== undefined) sink++;
    });
    results.push({ codec: c.name, payload: payloadName, op: 'encode', bytes: bytes.length, ...enc });
    results.push({ codec: c.name, payload: payloadName, op: 'decode', bytes: bytes.length, ...dec });
    console.log(
      `${payloadName.padEnd(16)} ${c.name.padEnd(28)} ${String(bytes.length).padStart(3)} B  ` +
        `encode ${String(enc.nsPerOp).padStart(7)} ns  decode ${String(dec.nsPerOp).padStart(7)} ns`,
    );
  }
}

const file = writeResults(
  'codec',
  'node --import tsx bench/codec.ts',
  results,
  `median of 5 rounds x ${N} ops after warm-up; checksum ${sink % 1000}`,
);
console.log(`wrote ${file}`);
