/**
 * Reads a `.cpuprofile` (node --cpu-prof; BENCH_CPU_PROF=<dir> for `npm run bench` or
 * test/load/cpu-compare.ts) and prints where the busy time went: by file or package, by function
 * (self time), by function with all it called (inclusive), and optionally the heaviest caller
 * chains of one function. Usage:
 *   node dist/test/load/cpu-profile-summary.js <file.cpuprofile> [top = 30] [function to trace]
 * PROFILE_FROM=<seconds> leaves out the samples before that many seconds from the profile's start
 * (the gateway's start-up: loading modules, building the API documents, generating keys), so the
 * shares are those of the load alone.
 * The profiler samples wall time: on a loaded machine a native call that wakes another process
 * (a socket write) also collects the time this one waited for a core, so read the JavaScript
 * shares against each other, and CPU per transfer from cpu-compare.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const [file, topArg, traced] = process.argv.slice(2);
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
const from = Number(process.env.PROFILE_FROM ?? 0) * 1e6;
const timeOf = new Map<number, number>();
let elapsed = 0;
profile.samples.forEach((id, i) => {
  elapsed += profile.timeDeltas[i] ?? 0;
  if (elapsed >= from) timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const shortUrl = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist)\//, '$1/');
const nameOf = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
const placeOf = (node: ProfileNode) => {
  const url = node.callFrame.url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm:${pkg[1]}`;
  if (url.includes('/dist/')) return url.replace(/^.*\/dist\//, '');
  return url || `native:${node.callFrame.functionName}`;
};
const add = (map: Map<string, number>, key: string, micros: number) => map.set(key, (map.get(key) ?? 0) + micros);

const byPlace = new Map<string, number>();
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const chains = new Map<string, number>();
let busy = 0;
let idle = 0;
for (const [id, micros] of timeOf) {
  const node = nodes.get(id)!;
  if (node.callFrame.functionName === '(idle)') {
    idle += micros;
    continue;
  }
  busy += micros;
  add(byPlace, placeOf(node), micros);
  add(self, nameOf(node), micros);
  const seen = new Set<string>();
  let tracedAt: number | undefined;
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
    const name = nameOf(nodes.get(at)!);
    if (tracedAt === undefined && traced !== undefined && nodes.get(at)!.callFrame.functionName === traced) tracedAt = at;
    if (seen.has(name)) continue;
    seen.add(name);
    add(inclusive, name, micros);
  }
  if (tracedAt !== undefined) {
    const callers: string[] = [];
    for (let at = parents.get(tracedAt); at !== undefined && callers.length < 5; at = parents.get(at)) {
      const name = nameOf(nodes.get(at)!);
      if (!/node:|^\(root\)|processTicksAndRejections|runMicrotasks/.test(name)) callers.push(name);
    }
    add(chains, callers.join(' < '), micros);
  }
}

const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * micros) / busy).toFixed(1).padStart(6)} %  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
  }
};
process.stdout.write(`busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms; shares are of the busy time\n`);
print('By file or package (self time)', byPlace);
print('By function (self time)', self);
print('By function, with what it called (inclusive)', inclusive);
if (traced !== undefined) print(`Callers of ${traced}`, chains);
