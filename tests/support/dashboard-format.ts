/**
 * The dashboard's number formats (public/dashboard/format.js), written out again for the browser
 * tests, so that they check the page against the rules rather than against itself.
 */
export const MINUS = '\u2212';

export const fixed = (x: number, d: number): string => {
  const s = x.toFixed(d);
  if (/^-0\.?0*$/.test(s)) return s.slice(1);
  return s.startsWith('-') ? MINUS + s.slice(1) : s;
};
export const count = (n: number): string => Math.round(n).toLocaleString('en-US');
export const pct = (r: number): string => `${fixed(r * 100, 1)}%`;
export const pts = (d: number): string => {
  const s = fixed(d * 100, 1);
  return s === '0.0' ? s : d > 0 ? `+${s}` : s;
};
export const ptsBound = (d: number): string => fixed(d * 100, 1);
export const ms = (x: number | null): string => (x === null ? '—' : `${Math.round(x).toLocaleString('en-US')} ms`);
export const pValue = (p: number): string => (p < 0.001 ? '< 0.001' : p.toFixed(3));
