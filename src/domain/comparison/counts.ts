/** Adding up cells: the metric table's `Counts` helpers (src/domain/metrics/counts.ts). */
export { addInto, emptyCounts, sanitized, sumCounts } from '../metrics/counts.js';
