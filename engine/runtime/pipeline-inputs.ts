/** Which of an actor's inputs can reach a pipeline node: the graph walked upstream. */
import type { ActorOptions } from './actor-options.ts';

/** Indices of the actor's inputs whose records can reach sink `sinkId`. */
export function inputsUpstreamOf(o: ActorOptions, sinkId: string): number[] {
  return inputsUpstreamOfNodes(o, o.nodes.flatMap((n, i) => (n.kind === 'sink' && n.sinkId === sinkId ? [i] : [])));
}

/** Indices of the actor's inputs whose records can reach any of the nodes `todo`. */
export function inputsUpstreamOfNodes(o: ActorOptions, todo: number[]): number[] {
  const seen = new Set<number>();
  const sources = new Set<string>();
  while (todo.length) {
    const i = todo.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    const n = o.nodes[i];
    if (n.kind === 'source') sources.add(n.sourceId);
    for (const inp of n.inputs) todo.push(inp.from);
  }
  return o.inputs.flatMap((inp, i) => (sources.has(inp.sourceId) ? [i] : []));
}
