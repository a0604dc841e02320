/** Errors the compiler raises. The runtime falls back to tfjs on any of them and shows the message. */
export class CompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompileError';
  }
}

/** The graph uses ops the compiler has no translation for; `ops` lists every one of them, sorted. */
export class UnsupportedOpError extends CompileError {
  readonly ops: string[];

  constructor(ops: string[], modelName?: string) {
    const sorted = [...new Set(ops)].sort();
    super(`unsupported op${sorted.length > 1 ? 's' : ''} ${sorted.join(', ')}${modelName ? ` in ${modelName}` : ''}`);
    this.name = 'UnsupportedOpError';
    this.ops = sorted;
  }
}

/** A model.json or weight shard that cannot be read as a tfjs graph model. */
export class ModelFormatError extends CompileError {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}
