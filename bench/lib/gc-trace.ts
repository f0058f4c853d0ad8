/**
 * What V8's `--trace-gc-nvp` says about the garbage collections of a stretch of load: how many
 * bytes per call outlived a scavenge (kept in the young generation, or promoted to the old one),
 * how often scavenges came and what their pauses cost. The bytes hold still from run to run where
 * CPU time on shared cores does not, so they tell a change to what the gateway keeps apart from
 * the noise; a scavenge's time goes more by the objects it copies than by their bytes, so read the
 * pauses beside them (bench/README.md).
 *
 * One line per collection, `[pid:isolate] <ms> ms: pause=… gc=s … new_space_survived=… promoted=…`
 * (`gc=s` a scavenge; any other kind, `gc=mc` by default, is counted as a full collection's final
 * pause).
 */

export interface GcTraceSummary {
  scavenges: number;
  scavengesPer1000Calls: number;
  scavengePauseMicrosPerCall: number;
  survivedKBPerCall: number;
  promotedKBPerCall: number;
  fullCollections: number;
  fullPauseMicrosPerCall: number;
}

const FIELD = /(\S+)=(\S+)/g;
const STAMP = /\]\s+(\d+(?:\.\d+)?) ms: /;

/**
 * The trace's lines in `text` stamped `fromMs` or later (ms since V8 started; other lines are
 * skipped), summed over `calls`.
 */
export function summarizeGcTrace(text: string, calls: number, fromMs = 0): GcTraceSummary {
  let scavenges = 0;
  let scavengePauseMs = 0;
  let survived = 0;
  let promoted = 0;
  let fullCollections = 0;
  let fullPauseMs = 0;
  for (const line of text.split('\n')) {
    if (!line.includes(' pause=') || !line.includes(' gc=')) continue;
    if (Number(STAMP.exec(line)?.[1] ?? -1) < fromMs) continue;
    const f = Object.fromEntries([...line.matchAll(FIELD)].map((m) => [m[1], m[2]]));
    const pause = Number(f.pause) || 0;
    if (f.gc === 's') {
      scavenges++;
      scavengePauseMs += pause;
      survived += Number(f.new_space_survived) || 0;
      promoted += Number(f.promoted) || 0;
    } else {
      fullCollections++;
      fullPauseMs += pause;
    }
  }
  const per = (x: number) => (calls > 0 ? x / calls : NaN);
  const round = (x: number, digits: number) => Number(x.toFixed(digits));
  return {
    scavenges,
    scavengesPer1000Calls: round(per(scavenges) * 1000, 2),
    scavengePauseMicrosPerCall: round(per(scavengePauseMs) * 1000, 1),
    survivedKBPerCall: round(per(survived) / 1024, 2),
    promotedKBPerCall: round(per(promoted) / 1024, 2),
    fullCollections,
    fullPauseMicrosPerCall: round(per(fullPauseMs) * 1000, 1),
  };
}
