/**
 * The output of the cell running now, set by the kernel around each execution (as tslab does
 * for `display`), so that API calls made from TypeScript cells can show live views. Outside a
 * kernel there is none and the API only returns values.
 */
import type { CellOutput } from '../types';

let current: CellOutput | undefined;

export function setCellOutput(out: CellOutput | undefined): void {
  current = out;
}

export function cellOutput(): CellOutput | undefined {
  return current;
}
