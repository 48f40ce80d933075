/**
 * Diagnostics: a located problem in a pipeline spec, and the error that carries them.
 *
 * The wire type (`stratum.v1.Diagnostic`) is the single definition; here it is used without
 * protobuf's bookkeeping fields so plain objects can be built and compared in tests.
 */
import { type Diagnostic } from '@stratum/proto';

export type SpecDiagnostic = Omit<Diagnostic, '$typeName' | '$unknown'>;

/** `penguins.yaml:12:7: models[1].params.maxDeph: unknown key "maxDeph" (did you mean "maxDepth"?)` */
export function formatDiagnostic(d: SpecDiagnostic): string {
  const where = `${d.file}:${d.line}:${d.column}`;
  const field = d.field ? ` ${d.field}:` : '';
  const hint = d.suggestion ? ` (did you mean ${JSON.stringify(d.suggestion)}?)` : '';
  return `${where}:${field} ${d.message}${hint}`;
}

/** Thrown by `parseSpec`; the message lists every diagnostic, one per line. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  readonly diagnostics: SpecDiagnostic[];

  constructor(diagnostics: SpecDiagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.diagnostics = diagnostics;
  }
}
