/**
 * The expression vocabulary of the facial-expression API. A pool model names its classes in `labels` (output
 * order); the API maps those names onto FER2013 codes, so a model with another class order still answers
 * with the same codes.
 */

/** FER2013 expression codes: the index is the code every facial-expression response carries. */
export const fer2013Expressions = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;

export type ExpressionLabel = (typeof fer2013Expressions)[number];

/** Synonyms some expression models use for the FER2013 classes. */
const expressionSynonyms: Record<string, ExpressionLabel> = {
  anger: 'angry',
  disgusted: 'disgust',
  fearful: 'fear',
  scared: 'fear',
  happiness: 'happy',
  sadness: 'sad',
  surprised: 'surprise',
  calm: 'neutral',
};

/**
 * For each output index of a model, the FER2013 code of its class. Throws when a label is not one of the
 * seven expressions, so a model with another vocabulary is refused instead of mislabelled.
 */
export function fer2013Codes(modelLabels: readonly string[] | undefined, outputs: number): number[] {
  const labels = modelLabels ?? (outputs === fer2013Expressions.length ? fer2013Expressions : undefined);
  if (labels === undefined) {
    throw new TypeError(`expression model has ${outputs} outputs and no labels; expected the 7 FER2013 expressions`);
  }
  if (labels.length !== outputs) throw new TypeError(`expression model lists ${labels.length} labels for ${outputs} outputs`);
  return labels.map((raw) => {
    const name = raw.trim().toLowerCase();
    const canonical = (fer2013Expressions as readonly string[]).includes(name) ? name : expressionSynonyms[name];
    if (canonical === undefined) throw new TypeError(`expression model label '${raw}' is not a FER2013 expression`);
    return fer2013Expressions.indexOf(canonical as ExpressionLabel);
  });
}
