/** The readable summary of bench/results.json, and the targets (issues 7 and 20) checked against it. */

type Json = Record<string, any>;

const f = (v: unknown, digits = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-');
const n0 = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v).toLocaleString('en') : '-');

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

export function checkTargets(r: Json): TargetCheck[] {
  const out: TargetCheck[] = [];
  // Issue 20's latency and saturation targets, in both modes: added p50 <= 0.3 ms, added p99 at
  // most the bare proxy's added p99 + 1 ms (same run), saturation >= 50% of the bare proxy's.
  for (const [scenario, label] of [
    ['postgres', 'PostgreSQL'],
    ['pglite', 'embedded'],
  ] as const) {
    const o = r.overhead?.[scenario];
    if (!o || o.error) continue;
    const a = o.latency.addedMs.gateway;
    const bare = o.latency.addedMs.bare;
    // The floor proxy (bench/floor-proxy.ts) beside each: the least a gateway in this stack does.
    const floor = o.latency.addedMs.floor;
    const floorNote = (v: unknown) => (floor ? `; floor ${f(v)} ms` : '');
    out.push({
      target: `added p50 <= 0.3 ms at 500 req/s (${label})`,
      measured: `${f(a.p50)} ms (bare proxy ${f(bare.p50)} ms${floorNote(floor?.p50)})`,
      met: a.p50 <= 0.3,
    });
    out.push({
      target: `added p99 <= bare proxy's + 1 ms at 500 req/s (${label})`,
      measured: `${f(a.p99)} ms (bare proxy ${f(bare.p99)} ms${floorNote(floor?.p99)})`,
      met: a.p99 <= bare.p99 + 1,
    });
    const s = o.saturation.gatewayShareOfBare;
    const fs = o.saturation.floorShareOfBare;
    out.push({
      target: `saturation >= 50% of the bare proxy (${label})`,
      measured: `${f(s * 100, 1)}% (${n0(o.saturation.rps.gateway)} vs ${n0(o.saturation.rps.bare)} req/s${fs === undefined ? '' : `; floor ${f(fs * 100, 1)}%`})`,
      met: s >= 0.5,
    });
  }
  const ing = r.ingestion?.composed;
  if (ing && !ing.error)
    out.push({
      target: 'ingestion >= 20,000 runs/s (PostgreSQL, as composed)',
      measured: `${n0(ing.runsPerSecond)} runs/s`,
      met: ing.runsPerSecond >= 20_000,
    });
  const tiers: Json[] = r.comparison?.tiers ?? [];
  const avail = tiers.filter((t) => t.comparison?.available);
  if (avail.length) {
    const last = avail[avail.length - 1]!;
    const at10M = avail.find((t) => t.runs >= 10_000_000);
    out.push({
      target: 'comparison at 10M runs < 50 ms',
      measured: at10M
        ? `${f(at10M.comparison.p50Ms, 1)} ms`
        : `not run at 10M (BENCH_FULL=1); ${f(last.comparison.p50Ms, 1)} ms at ${n0(last.runs)}`,
      met: at10M ? at10M.comparison.p50Ms < 50 : null,
    });
    if (avail.length > 1) {
      const first = avail[0]!;
      const growth = last.comparison.p50Ms / first.comparison.p50Ms;
      out.push({
        target: 'comparison cost flat or logarithmic in runs',
        measured: `x${f(growth, 2)} for x${f(last.runs / first.runs, 0)} runs (naive SQL x${f(last.naive.comparisonMs / first.naive.comparisonMs, 1)})`,
        met: growth < 1 + Math.log10(last.runs / first.runs),
      });
    }
  } else if (tiers.length) {
    out.push({
      target: 'comparison at 10M runs < 50 ms',
      measured: `endpoint not available (HTTP ${tiers[0]!.comparison?.status})`,
      met: null,
    });
  }
  // RSS targets of issue 20: 150 MB on PostgreSQL, 300 MB embedded (PGlite's worker in the same process).
  for (const [soak, label, limit] of [
    [r.soak, 'PostgreSQL', 150],
    [r.soakEmbedded, 'embedded', 300],
  ] as const) {
    if (!soak || soak.error) continue;
    const rss = soak.rssMB;
    out.push({ target: `RSS < ${limit} MB through the soak (${label})`, measured: `max ${f(rss.max, 1)} MB`, met: rss.max < limit });
    out.push({
      target: `RSS flat through the soak (${label}; no growth after warm-up)`,
      measured: `${f(rss.slopeAfterWarmupMBPerMinute, 2)} MB/min after warm-up (${f(rss.start, 1)} -> ${f(rss.end, 1)} MB)`,
      // Flat: no upward trend beyond 1 MB/min once warm (GC makes single samples swing by tens of MB).
      met: rss.slopeAfterWarmupMBPerMinute <= 1,
    });
    out.push({
      target: `soak without errors, every run and feedback stored (${label})`,
      measured: `${soak.invokes.errors} invoke errors, ${Object.values(soak.feedback.errors as Record<string, number>).reduce((a, b) => a + b, 0)} feedback errors, stored: ${soak.recording.complete}`,
      met: soak.invokes.errors === 0 && soak.recording.complete,
    });
  }
  return out;
}

export function summary(r: Json): string {
  const parts: string[] = [];
  const m = r.machine ?? {};
  parts.push(
    `chain-canary bench, ${m.date}: ${m.cpu} x${m.cores}, node ${m.node}, PostgreSQL ${m.postgres}, load average at start ${m.loadAverageStart?.join(' / ')}`,
  );

  const ov = r.overhead ?? {};
  const scen = Object.entries(ov) as [string, Json][];
  if (scen.length) {
    parts.push('\nGateway overhead (latency from the scheduled send, medians of rounds; saturation: autocannon, 2xx/s)');
    parts.push(
      table(
        [
          'scenario',
          'CPU/call bare µs',
          'floor µs',
          'gateway µs',
          'PostgreSQL µs/run',
          'main thread busy at saturation, bare / floor / gateway',
          'event-loop delay p99 ms',
        ],
        scen
          .filter(([, s]) => !s.error)
          .map(([k, s]) => [
            k,
            f(s.saturation.cpuMicrosPerCall?.bare, 0),
            f(s.saturation.cpuMicrosPerCall?.floor, 0),
            f(s.saturation.cpuMicrosPerCall?.gateway, 0),
            f(s.saturation.postgresCpuMicrosPerRun, 0),
            s.saturation.mainThreadBusy
              ? (['bare', 'floor', 'gateway'] as const).map((t) => `${f(s.saturation.mainThreadBusy[t] * 100, 0)}%`).join(' / ')
              : '',
            f(s.latency.gatewayEventLoopDelayP99Ms, 1),
          ]),
      ),
    );
    parts.push('');
    parts.push(
      table(
        [
          'scenario',
          'direct p50',
          'p99',
          'bare +p50',
          '+p99',
          'floor +p50',
          '+p99',
          'gateway +p50',
          '+p99',
          'S-T gw p50',
          'p99',
          'bare/s',
          'floor/s',
          'gateway/s',
          'share',
          'recorded',
        ],
        scen.map(([k, s]) =>
          s.error
            ? [k, `error: ${String(s.error).slice(0, 80)}`]
            : [
                k,
                f(s.latency.perTarget.direct.p50MedianMs),
                f(s.latency.perTarget.direct.p99MedianMs),
                f(s.latency.addedMs.bare.p50),
                f(s.latency.addedMs.bare.p99),
                f(s.latency.addedMs.floor?.p50),
                f(s.latency.addedMs.floor?.p99),
                f(s.latency.addedMs.gateway.p50),
                f(s.latency.addedMs.gateway.p99),
                f(s.serverTimingGatewayMs.p50),
                f(s.serverTimingGatewayMs.p99),
                n0(s.saturation.rps.bare),
                n0(s.saturation.rps.floor),
                n0(s.saturation.rps.gateway),
                `${f(s.saturation.gatewayShareOfBare * 100, 1)}%`,
                s.recording.storedRuns === undefined
                  ? `backlog ${s.recording.backlogAtExit}`
                  : `${s.recording.storedRuns}/${s.recording.gatewayAnswers}`,
              ],
        ),
      ),
    );
  }

  const ing = r.ingestion as Json | undefined;
  if (ing) {
    parts.push('\nIngestion (RunWriter + RunStore batches into PostgreSQL)');
    parts.push(
      table(
        ['path', 'runs', 'feedback', 'seconds', 'runs/s', 'feedback/s', 'batch p50 ms', 'hooks', 'all stored'],
        Object.entries(ing)
          .filter(([k]) => k !== 'measuredAt' && k !== 'loadAverage')
          .map(([k, x]: [string, Json]) =>
            x.error
              ? [k, `error: ${String(x.error).slice(0, 80)}`]
              : [
                  k,
                  n0(x.runs),
                  n0(x.feedback),
                  f(x.seconds, 1),
                  n0(x.runsPerSecond),
                  n0(x.feedbackPerSecond),
                  n0(x.batchMsP50),
                  x.readModelHooks ?? 'none',
                  String(x.complete),
                ],
          ),
      ),
    );
  }

  const cmp = r.comparison as Json | undefined;
  if (cmp?.tiers?.length) {
    parts.push('\nComparison and timeseries (p50 over sequential calls) vs naive SQL over runs ⋈ feedback');
    const a = (x: Json) => (x?.available ? f(x.p50Ms, 1) : `n/a`);
    parts.push(
      table(
        [
          'runs',
          'seed runs/s',
          'comparison ms',
          'last week ms',
          'series hour ms',
          'series day ms',
          'naive comparison ms',
          'naive series ms',
          'runs MB',
        ],
        cmp.tiers.map((t: Json) => [
          n0(t.runs),
          n0(t.seed.runsPerSecond),
          a(t.comparison),
          a(t.comparisonLastWeek),
          a(t.timeseriesHour),
          a(t.timeseriesDay),
          n0(t.naive.comparisonMs),
          n0(t.naive.seriesMs),
          f(t.naive.tableMB?.runs, 0),
        ]),
      ),
    );
  } else if (cmp?.error) parts.push(`\nComparison: error: ${cmp.error}`);

  for (const [soak, label] of [
    [r.soak as Json | undefined, 'PostgreSQL'],
    [r.soakEmbedded as Json | undefined, 'embedded'],
  ] as const) {
    if (soak?.error) parts.push(`\nSoak (${label}): error: ${soak.error}`);
    if (!soak || soak.error) continue;
    parts.push(
      `\nSoak (${label}): ${soak.seconds} s at ${soak.rate}/s (${n0(soak.invokes.sent)} invokes, ${n0(soak.feedback.sent)} feedback)`,
    );
    parts.push(
      table(
        [
          'RSS start MB',
          'max MB',
          'end MB',
          'slope MB/min',
          'after warm-up',
          'invoke p50 ms',
          'p99 ms',
          'errors',
          'stored runs',
          'stored feedback',
        ],
        [
          [
            f(soak.rssMB.start, 1),
            f(soak.rssMB.max, 1),
            f(soak.rssMB.end, 1),
            f(soak.rssMB.slopeMBPerMinute, 2),
            f(soak.rssMB.slopeAfterWarmupMBPerMinute, 2),
            f(soak.invokes.latencyMs.p50),
            f(soak.invokes.latencyMs.p99),
            String(soak.invokes.errors),
            `${soak.recording.storedRuns}/${soak.recording.answered}`,
            `${soak.recording.storedFeedback}/${soak.recording.feedbackOk}`,
          ],
        ],
      ),
    );
  }

  const prof = r.profile as Json | undefined;
  if (prof && !prof.error) {
    parts.push(
      `\nProfile of the gateway (${n0(prof.calls)} calls, ${f(prof.cpuMicrosPerCall, 0)} µs CPU per call; self time, share of busy time)`,
    );
    parts.push(
      table(
        ['area (self time)', 'self ms', 'share'],
        prof.areas.slice(0, 12).map((x: Json) => [x.area, n0(x.selfMs), `${f(x.share * 100, 1)}%`]),
      ),
    );
    parts.push('');
    parts.push(
      table(
        ['area (node internals charged to their caller)', 'ms', 'share'],
        (prof.attributed ?? []).slice(0, 15).map((x: Json) => [x.area, n0(x.ms), `${f(x.share * 100, 1)}%`]),
      ),
    );
    parts.push('');
    parts.push(
      table(
        ['function', 'where', 'self ms', 'share'],
        prof.functions.slice(0, 20).map((x: Json) => [x.name, x.where, n0(x.selfMs), `${f(x.share * 100, 1)}%`]),
      ),
    );
    if (prof.bare?.attributedMicrosPerCall) {
      const g = prof.attributedMicrosPerCall as Record<string, number>;
      const b = prof.bare.attributedMicrosPerCall as Record<string, number>;
      const fl = (prof.floor?.attributedMicrosPerCall ?? {}) as Record<string, number>;
      const areas = [...new Set([...Object.keys(g), ...Object.keys(b), ...Object.keys(fl)])].sort((x, y) => (g[y] ?? 0) - (g[x] ?? 0));
      parts.push(
        `\nCPU per answered call under the same load, µs (node internals charged to their caller): the gateway, the floor of a gateway in this stack (bench/floor-proxy.ts) and the bare proxy; saturation ${n0(prof.saturationRps)} / ${n0(prof.floor?.saturationRps)} / ${n0(prof.bare.saturationRps)} req/s`,
      );
      parts.push(
        table(
          ['area', 'gateway', 'floor', 'bare proxy', 'gateway − bare'],
          [
            ...areas.map((a) => [a, f(g[a] ?? 0, 1), f(fl[a] ?? 0, 1), f(b[a] ?? 0, 1), f((g[a] ?? 0) - (b[a] ?? 0), 1)]),
            [
              'total',
              f(prof.cpuMicrosPerCall, 1),
              f(prof.floor?.cpuMicrosPerCall, 1),
              f(prof.bare.cpuMicrosPerCall, 1),
              f(prof.cpuMicrosPerCall - prof.bare.cpuMicrosPerCall, 1),
            ],
          ],
        ),
      );
    }
  }

  const targets = checkTargets(r);
  if (targets.length) {
    parts.push('\nTargets (issues 7 and 20)');
    parts.push(
      table(
        ['target', 'measured', 'met'],
        targets.map((t) => [t.target, t.measured, t.met === null ? 'n/a' : t.met ? 'yes' : 'NO']),
      ),
    );
  }
  return parts.join('\n') + '\n';
}
