/** The one failure of the exporters: a model (or layer) that has no ONNX translation here. */
export class OnnxExportError extends Error {
  override readonly name = 'OnnxExportError';

  constructor(
    /** The trainer whose model could not be exported. */
    readonly trainer: string,
    message: string,
  ) {
    super(`ONNX export of a ${trainer} model: ${message}`);
  }
}
