import { fer2013Expressions } from '../../vision/labels.js';
import { ORIENTATION_LABELS, recognizerLabelProblems, TEXT_DETECTION_TASK, TEXT_ORIENTATION_TASK, TEXT_RECOGNITION_TASK } from '../../vision/text/textModels.js';
import type { TaskSpec } from '../task.js';

/*
 * What the operator knows of the vision tasks: their rules, without their code. The task modules spread these
 * specs, so the rules have one home; the operator imports only this file (no image decoder, no HTTP stack).
 */

export const faceDetectionSpec: TaskSpec = {
  id: 'vision/face-detection',
  summary: 'Faces in an image: box, score and six landmarks each (POST /v1/vision/faces).',
  frameworks: ['tfjs-graph', 'tfjs-layers', 'onnx'],
  preprocessing: 'optional',
};

export const facialExpressionSpec: TaskSpec = {
  id: 'vision/facial-expression',
  summary: 'The facial expression of each face, as FER2013 codes (POST /v1/vision/facial-expressions).',
  frameworks: ['tfjs-graph', 'tfjs-layers', 'onnx'],
  labels: { count: fer2013Expressions.length, note: `the FER2013 expressions: ${fer2013Expressions.join(', ')}` },
  preprocessing: 'optional',
};

export const objectDetectionSpec: TaskSpec = {
  id: 'vision/object-detection',
  summary: 'Objects in an image: label, score and box each (POST /v1/vision/objects).',
  frameworks: ['tfjs-graph', 'tfjs-layers', 'onnx'],
  labels: { note: "class names in the order of the detector's class column (the 80 COCO classes for the default model)" },
  preprocessing: 'optional',
};

export const textDetectionSpec: TaskSpec = {
  id: TEXT_DETECTION_TASK,
  summary: 'Where text lines are in an image (a text probability map, turned into line quadrilaterals)',
  frameworks: ['onnx'],
};

export const textOrientationSpec: TaskSpec = {
  id: TEXT_ORIENTATION_TASK,
  summary: 'Whether a text line is upright or upside down',
  frameworks: ['onnx'],
  labels: { count: ORIENTATION_LABELS.length, note: `output order ${ORIENTATION_LABELS.join(', ')} (degrees)` },
};

export const textRecognitionSpec: TaskSpec = {
  id: TEXT_RECOGNITION_TASK,
  summary: 'The text in an image, line by line in reading order, with boxes and confidences (POST /v1/vision/text).',
  frameworks: ['onnx'],
  labels: { required: true, note: 'CTC classes in output order: "" (the blank) first, then the characters, then " "' },
  checkLabels: recognizerLabelProblems,
};
