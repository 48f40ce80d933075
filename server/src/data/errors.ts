/**
 * The one error type of the data layer: loading, transforms, feature preparation and request
 * decoding all throw DataError, so callers map a single class to "invalid argument" and can
 * still point the user at the exact place (source, row, column, transform step, record, field).
 */
export type DataErrorCode =
  /** The bytes could not be read as the declared format, or a value does not fit a column. */
  | 'load'
  /** A transform step is invalid for this frame (unknown column, wrong kind, bad expression). */
  | 'transform'
  /** The prepared features cannot feed a model (text not one-hot encoded, values still missing). */
  | 'features'
  /** A record sent for prediction lacks a field or has the wrong type. */
  | 'record'
  /** The data cannot be split as asked (too few rows or classes). */
  | 'split';

export interface DataErrorContext {
  /** Path or URL the data came from. */
  readonly source?: string;
  /** 0-based index of the data row (CSV: not counting the header) or record at fault. */
  readonly row?: number;
  /** 1-based line in a text file. */
  readonly line?: number;
  readonly column?: string;
  /** 0-based index of the transform step in `spec.transforms`. */
  readonly step?: number;
  /** For an expression error inside a transform step: the fault's offset and length in `expr`. */
  readonly offset?: number;
  readonly length?: number;
}

export class DataError extends Error {
  override readonly name = 'DataError';
  constructor(
    readonly code: DataErrorCode,
    message: string,
    readonly context: DataErrorContext = {},
  ) {
    super(message);
  }
}
