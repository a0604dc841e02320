import type { ModelSignature } from '../core/backend.js';

/**
 * A dialog model's tensors. Input `text`: a batch of utterances. Outputs per row: `intent`, `score`, `answer`
 * and `entities` (a JSON array); `grammar` is the JSGF grammar of the corpus's utterances when the batch is
 * empty (how the voice chain asks for it), else an empty string.
 */
export function dialogSignature(): ModelSignature {
  return {
    inputs: [{ name: 'text', dtype: 'string', shape: [-1] }],
    outputs: [
      { name: 'intent', dtype: 'string', shape: [-1] },
      { name: 'score', dtype: 'float32', shape: [-1] },
      { name: 'answer', dtype: 'string', shape: [-1] },
      { name: 'entities', dtype: 'string', shape: [-1] },
      { name: 'grammar', dtype: 'string', shape: [1] },
    ],
  };
}

/** An entity found in an utterance, as the dialog API reports it. */
export interface DialogEntity {
  entity: string;
  /** The option it resolved to (`living room` for "lounge"). */
  option: string;
  /** The words of the utterance that named it. */
  text: string;
  start: number;
  end: number;
  accuracy: number;
}

/** The longest utterance a dialog model takes. */
export const MAX_UTTERANCE_CHARS = 500;
