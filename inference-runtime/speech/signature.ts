import type { ModelSignature } from '../core/backend.js';
import type { HostTensor } from '../core/tensor.js';

/** The rate every speech model of the pool takes; requests are resampled to it. */
export const SPEECH_SAMPLE_RATE = 16_000;

/** The `grammar` input that asks for open dictation (the language model) even when the model has a phrase list. */
export const DICTATION = '<dictation>';

/**
 * A speech recognition model's tensors. Inputs: `audio` (16 kHz mono samples in [-1, 1]) and `grammar` (one
 * string: JSGF text, empty for the model's default, or DICTATION). Outputs: `text`, `confidence`, `words`
 * and `word_times` ([start, end] in seconds per word).
 */
export function speechSignature(): ModelSignature {
  return {
    inputs: [
      { name: 'audio', dtype: 'float32', shape: [-1] },
      { name: 'grammar', dtype: 'string', shape: [1] },
    ],
    outputs: [
      { name: 'text', dtype: 'string', shape: [1] },
      { name: 'confidence', dtype: 'float32', shape: [1] },
      { name: 'words', dtype: 'string', shape: [-1] },
      { name: 'word_times', dtype: 'float32', shape: [-1, 2] },
    ],
  };
}

export interface SpeechModelInputs {
  audio: HostTensor;
  grammar: HostTensor;
}

export function speechInputs(samples: Float32Array, grammar: string): SpeechModelInputs & Record<string, HostTensor> {
  return {
    audio: { dtype: 'float32', shape: [samples.length], data: samples },
    grammar: { dtype: 'string', shape: [1], data: [grammar] },
  };
}
