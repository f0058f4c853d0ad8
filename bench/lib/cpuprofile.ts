/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and sums self time: per function (name, file, line)
 * and per area (a package under node_modules, a folder of src/, node internals, GC, idle).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  name: string;
  where: string;
  selfMs: number;
  /** Share of the non-idle time. */
  share: number;
}

/** Our code, as sources (src/) or compiled (dist/, as `npm start` runs it): `src/…` either way. */
function ourPath(url: string): string | undefined {
  for (const dir of ['/src/', '/dist/']) {
    const at = url.indexOf(dir);
    if (at >= 0) return `src/${url.slice(at + dir.length)}`;
  }
  return undefined;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const ours = ourPath(url);
  if (ours) return ours;
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  return url.replace(/^file:\/\//, '');
}

function areaOf(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8/native (program)';
  if (!url) return 'native / builtins';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ours = ourPath(url);
  if (ours) {
    const parts = ours.split('/');
    return parts.slice(0, Math.min(3, parts.length - 1)).join('/') || parts.join('/');
  }
  if (url.startsWith('node:')) return 'node internals';
  const bench = url.indexOf('/bench/');
  return bench >= 0 ? url.slice(bench + 1) : url;
}

/** `fromUs`: leave out samples before this monotonic time (start-up), when it falls inside the profile. */
export function analyzeProfile(
  file: string,
  top = 25,
  fromUs?: number,
): {
  wallMs: number;
  busyMs: number;
  idleMs: number;
  functions: HotSpot[];
  areas: { area: string; selfMs: number; share: number }[];
  /** Self time of node internals and natives charged to the nearest package or src folder that called them. */
  attributed: { area: string; ms: number; share: number }[];
} {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const userland = (url: string) =>
    url.includes('node_modules/') || ourPath(url) !== undefined || url.includes('/bench/') || url.startsWith('wasm://');
  const ownerArea = (id: number): string => {
    const start = byId.get(id)!.callFrame;
    if (start.functionName === '(garbage collector)' || start.functionName === '(program)' || start.functionName === '(idle)')
      return areaOf(start.functionName, start.url);
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      if (userland(cf.url)) return cf.url.startsWith('wasm://') ? 'wasm (undici llhttp)' : areaOf(cf.functionName, cf.url);
    }
    return 'node internals (no package on the stack)';
  };
  const attributed = new Map<string, number>();
  const self = new Map<number, number>();
  const from = fromUs !== undefined && fromUs > p.startTime && fromUs < p.endTime ? fromUs : p.startTime;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < from) continue;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    total += us;
    const area = areaOf(cf.functionName, cf.url);
    if (area === 'idle') {
      idle += us;
      continue;
    }
    areas.set(area, (areas.get(area) ?? 0) + us);
    const owner = ownerArea(id);
    attributed.set(owner, (attributed.get(owner) ?? 0) + us);
    const name = cf.functionName || '(anonymous)';
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${name}\u0000${where}`;
    const e = fns.get(key) ?? { name, where, us: 0 };
    e.us += us;
    fns.set(key, e);
  }
  const busy = total - idle;
  return {
    wallMs: (p.endTime - from) / 1000,
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    functions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, share: f.us / busy })),
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, selfMs: us / 1000, share: us / busy })),
    attributed: [...attributed]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, ms: us / 1000, share: us / busy })),
  };
}
