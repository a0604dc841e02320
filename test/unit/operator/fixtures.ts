import type { MLModel, MLService, MLServiceSpec } from '../../../operator/api/types.js';

export const EMOTION_LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

export function model(name: string, overrides: Partial<MLModel['spec']> = {}): MLModel {
  return {
    apiVersion: 'mloffload.io/v1alpha1',
    kind: 'MLModel',
    metadata: { name, namespace: 'edge', uid: `uid-${name}`, generation: 1, resourceVersion: '1' },
    spec: {
      task: 'vision/facial-expression',
      framework: 'tfjs-graph',
      version: '1.0.0',
      source: { uri: 'npm:@vladmandic/human/models/emotion.json' },
      labels: [...EMOTION_LABELS],
      preprocessing: { width: 64, height: 64, colour: 'grayscale' },
      ...overrides,
    },
  };
}

export function service(name: string, spec: Partial<MLServiceSpec> = {}): MLService {
  return {
    apiVersion: 'mloffload.io/v1alpha1',
    kind: 'MLService',
    metadata: { name, namespace: 'edge', uid: `uid-${name}`, generation: 3, resourceVersion: '7' },
    spec: { models: [{ name: 'facial-expression' }], replicas: 2, port: 8080, placement: { edgeOnly: true }, ...spec },
  };
}
