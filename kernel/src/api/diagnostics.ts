/** Spec diagnostics as lines of text, pointing where the user wrote the spec. */
import { formatDiagnostic } from '@stratum/server/dist/spec';

/** Where a spec's text came from, so diagnostics can point there. */
export interface SpecOrigin {
  /** A file path, or the pipeline's name for a cell. */
  readonly label: string;
  /** Added to YAML line numbers: 1 for the body of a `%%stratum pipeline` cell, else 0. */
  readonly lineOffset: number;
}

interface DiagnosticLike {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly field: string;
  readonly message: string;
  readonly suggestion: string;
}

/** One diagnostic as a line of text, at the line the user sees. */
export function relocate(d: DiagnosticLike, origin?: SpecOrigin): string {
  if (!origin) return formatDiagnostic(d);
  if (origin.lineOffset === 0) return formatDiagnostic({ ...d, file: origin.label });
  const field = d.field ? ` ${d.field}:` : '';
  const hint = d.suggestion ? ` (did you mean ${JSON.stringify(d.suggestion)}?)` : '';
  return `pipeline ${origin.label}, cell line ${d.line + origin.lineOffset}, column ${d.column}:${field} ${d.message}${hint}`;
}
