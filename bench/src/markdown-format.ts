/** Markdown helpers for BENCHMARKS.md: number formats, verdict words, tables, target verdicts. */

export const f = (n: number | undefined, digits = 1): string =>
  n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
export const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
export const yes = (ok: boolean): string => (ok ? '**met**' : '**not met**');

export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly verdict: string;
}
