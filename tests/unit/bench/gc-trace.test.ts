/**
 * bench/lib/gc-trace.ts: the collections of `--trace-gc-nvp` summed per call, from lines as V8
 * prints them (one scavenge and one full collection of the gateway's own trace), other lines
 * of the log left out.
 */
import { describe, expect, it } from 'vitest';
import { summarizeGcTrace } from '../../../bench/lib/gc-trace.js';

const SCAVENGE =
  '[17600:0x7f8224000f00]      109 ms: pause=1.0 mutator=46.8 gc=s reduce_memory=0 time_to_safepoint=0.00 heap.prologue=0.00 heap.epilogue=0.00 heap.epilogue.reduce_new_space=0.00 heap.external.prologue=0.00 heap.external.epilogue=0.00 heap.external_weak_global_handles=0.01 fast_promote=0.00 complete.sweep_array_buffers=0.00 scavenge=0.91 scavenge.free_remembered_set=0.01 scavenge.roots=0.11 scavenge.weak=0.00 scavenge.weak_global_handles.identify=0.00 scavenge.weak_global_handles.process=0.00 scavenge.parallel=0.74 scavenge.update_refs=0.00 scavenge.sweep_array_buffers=0.01 background.scavenge.parallel=0.65 background.unmapper=0.00 unmapper=0.00 incremental.steps_count=0 incremental.steps_took=0.0 scavenge_throughput=1159485 total_size_before=8462376 total_size_after=7561552 holes_size_before=128 holes_size_after=206848 allocated=3290216 promoted=308720 new_space_survived=703344 nodes_died_in_new=13 nodes_copied_in_new=59 nodes_promoted=86 promotion_ratio=15.0% average_survival_ratio=61.5% promotion_rate=96.9% new_space_survive_rate_=34.1% new_space_allocation_throughput=32750.1 unmapper_chunks=0';
const FULL =
  '[17600:0x729c0a0]      472 ms: pause=9.3 mutator=66.1 gc=mc reduce_memory=0 time_to_safepoint=0.00 heap.prologue=0.00 heap.embedder_tracing_epilogue=0.02 heap.epilogue=0.00 heap.epilogue.reduce_new_space=0.00 heap.external.prologue=0.0 heap.external.epilogue=0.0 heap.external.weak_global_handles=0.0 clear=0 clear.external_string_table=0.0 clear.string_forwarding_table=0.0 clear.weak_global_handles=0.1 clear.dependent_code=0.0 clear.maps=0.0 clear.slots_buffer=0.0 clear.weak_collections=0.0 clear.weak_lists=0.0 clear.weak_references=0.3 clear.join_job=0.0 complete.sweep_array_buffers=0.0 complete.sweeping=0.0 epilogue=0.0 evacuate=1.7 evacuate.candidates=0.0 evacuate.clean_up=0.0 evacuate.copy=0.9 evacuate.prologue=0.0 evacuate.epilogue=0.0 evacuate.rebalance=0.1 evacuate.update_pointers=0.6 evacuate.update_pointers.to_new_roots=0.3 evacuate.update_pointers.slots.main=0.3 evacuate.update_pointers.weak=0.0 finish=0.0 finish.sweep_array_buffers=0.0 mark=7.0 mark.finish_incremental=0.0 mark.roots=0.3 mark.full_closure_parallel=6.9 mark.full_closure=0.0 mark.ephemeron.marking=0.0 mark.ephemeron.linear=0.0 mark.embedder_prologue=0.0 mark.embedder_tracing=0.0 prologue=0.0 sweep=0.1 sweep.code=0.0 sweep.map=0.0 sweep.new=0.0 sweep.new_lo=0.0 sweep.old=0.0 incremental=2.4 incremental.finalize=0.0 incremental.finalize.external.prologue=0.0 incremental.finalize.external.epilogue=0.0 incremental.layout_change=0.0 incremental.sweep_array_buffers=0.3 incremental.sweeping=0.0 incremental.embedder_prologue=0.0 incremental.embedder_tracing=0.0 incremental_wrapper_tracing_longest_step=0.0 incremental_longest_step=0.3 incremental_steps_count=36 incremental_marking_throughput=1041356 incremental_walltime_duration=21 background.mark=46.9 background.sweep=0.1 background.evacuate.copy=1.4 background.evacuate.update_pointers=0.2 background.unmapper=0.0 unmapper=0.0 total_size_before=16041512 total_size_after=12267072 holes_size_before=227216 holes_size_after=178504 allocated=2551968 promoted=2161984 new_space_survived=0 nodes_died_in_new=60 nodes_copied_in_new=0 nodes_promoted=0 promotion_ratio=65.9% average_survival_ratio=53.7% promotion_rate=128.6% new_space_survive_rate=0.0% new_space_allocation_throughput=18388.6 unmapper_chunks=0 compaction_speed=1080222';

describe('summarizeGcTrace', () => {
  it('sums the scavenges and full collections of the trace per call, and skips other lines', () => {
    const log = ['{"level":40,"msg":"a pause=3 of no collection"}', SCAVENGE, FULL, SCAVENGE, ''].join('\n');
    expect(summarizeGcTrace(log, 500)).toEqual({
      scavenges: 2,
      scavengesPer1000Calls: 4,
      scavengePauseMicrosPerCall: 4.0,
      survivedKBPerCall: 2.75,
      promotedKBPerCall: 1.21,
      fullCollections: 1,
      fullPauseMicrosPerCall: 18.6,
    });
  });

  it('leaves out the collections stamped before the load began', () => {
    const log = [SCAVENGE, FULL].join('\n'); // stamped 109 and 472 ms after V8 started
    expect(summarizeGcTrace(log, 500, 200)).toMatchObject({ scavenges: 0, fullCollections: 1 });
    expect(summarizeGcTrace(log, 500, 500)).toMatchObject({ scavenges: 0, fullCollections: 0 });
    expect(summarizeGcTrace(log, 500, 100)).toMatchObject({ scavenges: 1, fullCollections: 1 });
  });

  it('is empty for a log without a trace', () => {
    expect(summarizeGcTrace('{"level":40}\n', 100)).toMatchObject({ scavenges: 0, fullCollections: 0, promotedKBPerCall: 0 });
  });
});
