/**
 * Metric families with children bound once per label set, and their export in
 * prom-client's JSON form.
 *
 * Why not prom-client's own Counter/Histogram in the workers: a child from
 * `labels(...)` still hashes its label object on every `inc`/`observe`
 * (hashObject sorts and joins the names each call). Here a child is a plain
 * object holding numbers: binding happens once (an actor opening, a sink or an
 * operator event first seen), and the hot path only adds to a field. At
 * scrape time `toJSON()` yields exactly what prom-client's
 * `registry.getMetricsAsJSON()` yields, so the main thread merges worker
 * output with prom-client's `AggregatorRegistry.aggregate` (merge.ts).
 *
 * Wire format (one element per family, structured-cloned from a worker):
 *   { name, help, type: 'counter'|'gauge'|'histogram', aggregator: 'sum',
 *     values: [{ labels: {name: value}, value, metricName? }] }
 * Histogram values are cumulative `<name>_bucket` samples with an `le` label
 * (the bound, or '+Inf'), then `<name>_sum` and `<name>_count`.
 */
import { ErrorCodes, SluiceError } from '../engine/errors.ts';

export type MetricKind = 'counter' | 'gauge' | 'histogram';
export type Labels = Readonly<Record<string, string>>;

export interface MetricSample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

export interface MetricFamilyJson {
  name: string;
  help: string;
  type: MetricKind;
  aggregator: 'sum' | 'first';
  values: MetricSample[];
}

/** A counter's or gauge's value for one label set. Counters only ever grow: inc() with n >= 0. */
export class ScalarChild {
  value = 0;
  constructor(readonly labels: Labels) {}

  inc(n = 1): void {
    this.value += n;
  }

  set(v: number): void {
    this.value = v;
  }
}

/** A histogram for one label set: per-bucket counts (the last one is +Inf), sum and count. */
export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    this.observeN(v, 1);
  }

  /** Records `n` observations of value `v` at once (records that share a timestamp). */
  observeN(v: number, n: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i] += n;
    this.sum += v * n;
    this.count += n;
  }
}

abstract class Family<C extends { labels: Labels }> {
  private readonly children = new Map<string, C>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  abstract readonly type: MetricKind;
  protected abstract create(labels: Labels): C;

  /**
   * The child for this label set, created on first use. Call it when the
   * label values become known (actor open, first scrape that sees an event),
   * keep the child, and update the child on the hot path.
   */
  bind(labels: Labels): C {
    const key = this.key(labels);
    let c = this.children.get(key);
    if (!c) this.children.set(key, (c = this.create(Object.freeze({ ...labels }))));
    return c;
  }

  /** Drops a label set from the export (a gauge of a partition this worker no longer owns). */
  remove(labels: Labels): void {
    this.children.delete(this.key(labels));
  }

  /** Drops every label set: for gauges recomputed from scratch at each scrape. */
  clear(): void {
    this.children.clear();
  }

  get size(): number {
    return this.children.size;
  }

  toJSON(): MetricFamilyJson {
    const values: MetricSample[] = [];
    for (const c of this.children.values()) this.samples(c, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }

  protected abstract samples(c: C, out: MetricSample[]): void;

  private key(labels: Labels): string {
    const names = this.labelNames;
    const given = Object.keys(labels);
    if (given.length !== names.length || names.some((n) => typeof labels[n] !== 'string')) {
      throw new SluiceError(
        ErrorCodes.INTERNAL,
        `metric ${this.name}: labels must be exactly {${names.join(', ')}} with string values, got {${given.join(', ')}}`,
      );
    }
    let key = '';
    for (const n of names) key += labels[n] + '\u0000';
    return key;
  }
}

/** One value per label set: what counters and gauges have in common (they differ in their type only). */
abstract class ScalarFamily extends Family<ScalarChild> {
  protected create(labels: Labels): ScalarChild {
    return new ScalarChild(labels);
  }
  protected samples(c: ScalarChild, out: MetricSample[]): void {
    out.push({ labels: { ...c.labels }, value: c.value });
  }
}

export class CounterFamily extends ScalarFamily {
  readonly type = 'counter';
}

export class GaugeFamily extends ScalarFamily {
  readonly type = 'gauge';
}

export class HistogramFamily extends Family<HistogramChild> {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
    if (labelNames.includes('le')) throw new SluiceError(ErrorCodes.INTERNAL, `metric ${name}: "le" is reserved for histogram buckets`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i] > buckets[i - 1])) throw new SluiceError(ErrorCodes.INTERNAL, `metric ${name}: buckets must increase`);
    }
  }

  protected create(labels: Labels): HistogramChild {
    return new HistogramChild(labels, this.buckets);
  }

  protected samples(c: HistogramChild, out: MetricSample[]): void {
    const bucket = `${this.name}_bucket`;
    let acc = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      acc += c.counts[i];
      out.push({ labels: { ...c.labels, le: this.buckets[i] }, value: acc, metricName: bucket });
    }
    out.push({ labels: { ...c.labels, le: '+Inf' }, value: c.count, metricName: bucket });
    out.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` });
    out.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` });
  }
}

export type AnyFamily = CounterFamily | GaugeFamily | HistogramFamily;
