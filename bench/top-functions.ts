/**
 * `node --import tsx bench/top-functions.ts FILE.cpuprofile [N]`: the N
 * functions (default 30) with the most self time in a V8 CPU profile, with
 * their share, to find what to fix when a row misses its goal.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, limit = '30'] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: top-functions.ts FILE.cpuprofile [N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
  const where = url === '' ? '' : ` ${url.replace(/^.*\/node_modules\//, '~/').replace(/^file:\/\/.*\/packages\//, '')}:${lineNumber + 1}`;
  const name = `${functionName || '(anonymous)'}${where}`;
  const delta = profile.timeDeltas[i] ?? 0;
  selfMicros.set(name, (selfMicros.get(name) ?? 0) + delta);
  total += delta;
});
for (const [name, micros] of [...selfMicros].sort((a, b) => b[1] - a[1]).slice(0, Number(limit))) {
  console.log(`${((micros / total) * 100).toFixed(1).padStart(5)} %  ${name}`);
}
