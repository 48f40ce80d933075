/** Column-oriented tables as they flow through ingestion, transforms and splits. */

export type Column =
  /** Missing values are NaN. */
  | { readonly kind: 'number'; readonly values: Float64Array }
  /** Missing values are null. */
  | { readonly kind: 'string'; readonly values: readonly (string | null)[] };

export interface Frame {
  /** Column names in their original order. */
  readonly names: readonly string[];
  readonly columns: ReadonlyMap<string, Column>;
  readonly rows: number;
}

export type DataFormat = 'csv' | 'json' | 'arrow' | 'parquet';

export interface ColumnInfo {
  readonly name: string;
  readonly kind: Column['kind'];
}
