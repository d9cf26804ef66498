/**
 * The pipeline builder: a job's `pipeline(b, settings)` describes a small DAG
 * of sources, operators and sinks. The runtime calls it once per partition
 * actor, so every actor gets fresh operator instances (no sharing between
 * partitions or threads).
 *
 * Operator ids scope keyed state, so they must stay stable across restarts and
 * code changes: give stateful operators a `name`. Unnamed operators get
 * positional ids (`map-2`), which are stable only while the pipeline's shape is.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';
import type { Key, Operator } from './operator.ts';
import { FilterOperator, FlatMapOperator, KeyByOperator, MapOperator, UnionOperator } from '../operators/basic.ts';

export interface NodeInput {
  /** Index of the upstream node. */
  readonly from: number;
  /** Side-output tag of the upstream node, or undefined for its main output. */
  readonly tag?: string;
}

export type PipelineNode =
  | { readonly kind: 'source'; readonly id: string; readonly sourceId: string; readonly inputs: readonly NodeInput[] }
  | { readonly kind: 'operator'; readonly id: string; readonly operator: Operator; readonly inputs: readonly NodeInput[] }
  | { readonly kind: 'sink'; readonly id: string; readonly sinkId: string; readonly inputs: readonly NodeInput[] };

export class PipelineBuilder {
  readonly nodes: PipelineNode[] = [];
  private readonly ids = new Set<string>();

  /** The stream of records from the job's source `sourceId`. */
  source<T = unknown>(sourceId: string): Stream<T> {
    return new Stream<T>(this, this.add({ kind: 'source', id: `source-${sourceId}`, sourceId, inputs: [] }));
  }

  /** Two streams into one two-input operator: batches from `a` arrive with input 0, from `b` with input 1. */
  connect<A, B>(a: Stream<A>, b: Stream<B>): ConnectedStreams<A, B> {
    return new ConnectedStreams(this, a, b);
  }

  /** @internal */
  add(node: PipelineNode): number {
    if (node.id.includes(':') || node.id.trim() === '') {
      // ':' separates operator and event in counter keys (metrics); ids also name Kafka topics.
      throw new SluiceError(ErrorCodes.CONFIG, `pipeline: operator id "${node.id}" must be non-empty and contain no ':'`);
    }
    if (this.ids.has(node.id)) {
      throw new SluiceError(ErrorCodes.CONFIG, `pipeline: duplicate operator id "${node.id}"; give operators distinct names`);
    }
    this.ids.add(node.id);
    this.nodes.push(node);
    return this.nodes.length - 1;
  }

  /** @internal */
  nextId(kind: string, name?: string): string {
    return name ?? `${kind}-${this.nodes.length}`;
  }
}

export class Stream<T> {
  constructor(
    protected readonly b: PipelineBuilder,
    /** @internal */ readonly node: number,
    /** @internal */ readonly tag?: string,
  ) {}

  protected input(): NodeInput {
    return { from: this.node, tag: this.tag };
  }

  map<U>(fn: (value: T) => U, name?: string): Stream<U> {
    return this.process(new MapOperator<T, U>(fn), name ?? this.b.nextId('map'));
  }

  filter(fn: (value: T) => boolean, name?: string): Stream<T> {
    return this.process(new FilterOperator<T>(fn), name ?? this.b.nextId('filter'));
  }

  flatMap<U>(fn: (value: T) => Iterable<U>, name?: string): Stream<U> {
    return this.process(new FlatMapOperator<T, U>(fn), name ?? this.b.nextId('flat-map'));
  }

  /**
   * Keys the stream for keyed state. The key must agree with how the input
   * topics are partitioned (records of one key always in one partition), as
   * with Kafka Streams' co-partitioning rule: state is local to a partition.
   */
  keyBy(fn: (value: T) => Key, name?: string): Stream<T> {
    return this.process(new KeyByOperator<T>(fn), name ?? this.b.nextId('key-by'));
  }

  /** Any operator. Name stateful operators: the name scopes their state. */
  process<U>(operator: Operator<T, U>, name?: string): Stream<U> {
    const id = this.b.nextId('process', name);
    return new Stream<U>(this.b, this.b.add({ kind: 'operator', id, operator: operator as Operator, inputs: [this.input()] }));
  }

  /** The records this stream's operator sent to side output `tag`. */
  sideOutput<U = unknown>(tag: string): Stream<U> {
    return new Stream<U>(this.b, this.node, tag);
  }

  /** Merges streams of the same type into one. */
  union(...others: Stream<T>[]): Stream<T> {
    const id = this.b.nextId('union');
    const inputs = [this.input(), ...others.map((o) => o.input())];
    return new Stream<T>(this.b, this.b.add({ kind: 'operator', id, operator: new UnionOperator<T>(), inputs }));
  }

  /** Sends this stream to the job's sink `sinkId`. */
  to(sinkId: string): void {
    this.b.add({ kind: 'sink', id: this.b.nextId('sink', `sink-${sinkId}-${this.b.nodes.length}`), sinkId, inputs: [this.input()] });
  }
}

export class ConnectedStreams<A, B> {
  constructor(
    private readonly b: PipelineBuilder,
    private readonly a: Stream<A>,
    private readonly c: Stream<B>,
  ) {}

  process<U>(operator: Operator<A | B, U>, name: string): Stream<U> {
    const inputs = [
      { from: this.a.node, tag: this.a.tag },
      { from: this.c.node, tag: this.c.tag },
    ];
    return new Stream<U>(this.b, this.b.add({ kind: 'operator', id: name, operator: operator as Operator, inputs }));
  }
}
