/**
 * The compiler's version: part of every cached compilation's key. Its own module so a start-up that finds a
 * verified compilation in the cache reads this without loading the compiler, tfjs or onnxruntime.
 */
export const COMPILER_VERSION = '1.1.0';
