/**
 * Ingestion: bytes of a CSV, JSON, Arrow IPC or Parquet file → Frame. Fetching the bytes
 * (file, URL, artifact store) is the caller's business, so this stays pure and testable.
 * Conversion rules per format are documented in load-text.ts and load-arrow.ts.
 */
import { parseArrow, parseParquet } from './load-arrow';
import { parseCsv, parseJson } from './load-text';
import type { ColumnInfo, DataFormat, Frame } from './types';

const EXTENSIONS: Record<string, DataFormat> = {
  csv: 'csv',
  json: 'json',
  arrow: 'arrow',
  arrows: 'arrow',
  feather: 'arrow',
  ipc: 'arrow',
  parquet: 'parquet',
  pq: 'parquet',
};

/** The format implied by the file extension of a path or URL (query and fragment ignored). */
export function inferFormat(source: string): DataFormat | undefined {
  const path = source.replace(/[?#].*$/, '');
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  return m ? EXTENSIONS[m[1]!.toLowerCase()] : undefined;
}

export interface LoadOptions {
  /** Named in every error, so the user knows which file is at fault. */
  readonly source: string;
  /** Read at most this many rows. */
  readonly limit?: number;
}

/** Reads a data set; throws DataError (code 'load') naming the source and, for text formats, the row. */
export async function loadFrame(bytes: Uint8Array, format: DataFormat, opts: LoadOptions): Promise<Frame> {
  switch (format) {
    case 'csv':
      return parseCsv(bytes, opts.source, opts.limit);
    case 'json':
      return parseJson(bytes, opts.source, opts.limit);
    case 'arrow':
      return parseArrow(bytes, opts.source, opts.limit);
    case 'parquet':
      return parseParquet(bytes, opts.source, opts.limit);
  }
}

export function frameColumns(frame: Frame): ColumnInfo[] {
  return frame.names.map((name) => ({ name, kind: frame.columns.get(name)!.kind }));
}
