import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FACIAL_EXPRESSION } from '../../../../../inference-runtime/config/defaultPool.js';
import { DATATYPES, identityModelName, writeDatatypeModels } from '../../../../fixtures/models/datatypeModels.js';
import { pythonClientsVenv, runPythonClient } from '../../../../helpers/pythonClients.js';
import { startRuntimeProcess, type ReadyRuntime } from '../../../../helpers/runtimeProcess.js';

/** A deterministic 64x64 grey image in the expression model's [-1, 1] input range, flat (row-major). */
function grayImage(seed: number): number[] {
  let state = seed >>> 0 || 1;
  return Array.from({ length: 64 * 64 }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.fround((state / 2 ** 32) * 2 - 1);
  });
}

interface ExpressionSeen {
  id?: string;
  scores: number[];
  output_has_data?: boolean;
}
interface DatatypeSeen {
  sent: string[];
  shape: number[];
  got: string[];
  output_has_data?: boolean;
}
interface TritonReport {
  live: boolean;
  ready: boolean;
  model_ready: boolean;
  model_ready_unknown: boolean;
  server_metadata: { name: string; version: string; extensions: string[] };
  model_metadata: { name: string; versions: string[]; platform: string; inputs: unknown[]; outputs: unknown[] };
  model_metadata_version: { name: string };
  expression: Record<string, ExpressionSeen>;
  datatypes: Record<string, Record<string, DatatypeSeen>>;
  errors: Record<string, { status: string; message: string } | null>;
}
interface KServeReport {
  live: boolean;
  ready: boolean;
  model_ready: boolean;
  model_ready_unknown: boolean;
  expression: Record<string, ExpressionSeen>;
  datatypes: Record<string, Record<string, DatatypeSeen>>;
  unknown_model_error: { status: number; message: string } | null;
}

const COMBINATIONS = ['in_binary_out_binary', 'in_binary_out_json', 'in_json_out_binary', 'in_json_out_json'];

/** float32 scores compared as float32: JSON writers may print a float32 with fewer or more digits. */
function expectSameFloat32(actual: number[], expected: number[]): void {
  expect(actual.map(Math.fround)).to.deep.equal(expected.map(Math.fround));
}

describe('V2 REST with the real Python clients (tritonclient[http], kserve) against a runtime process', function () {
  // The first run on a machine installs the clients into a cached virtualenv (a few minutes).
  this.timeout(30 * 60_000);
  let runtime: ReadyRuntime;
  let python: string;
  let dir: string;
  let caseFile: string;
  let reference: number[];
  const image = grayImage(7);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mloffload-v2-clients-'));
    const identities = writeDatatypeModels(path.join(dir, 'models'));
    [python, runtime] = await Promise.all([
      pythonClientsVenv(),
      startRuntimeProcess({ pool: { models: [FACIAL_EXPRESSION, ...identities] }, nodeName: 'v2-clients', args: ['--workers', '1'] }),
    ]);
    const metadata = (await (await fetch(`${runtime.url}/v2/models/${FACIAL_EXPRESSION.name}`)).json()) as { inputs: Array<{ name: string }>; outputs: Array<{ name: string }> };
    const input = metadata.inputs[0]!.name;
    const output = metadata.outputs[0]!.name;
    // The same image through TF Serving's :predict is the reference every V2 answer must equal.
    const rows = [Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [image[y * 64 + x]!]))];
    const predict = await fetch(`${runtime.url}/v1/models/${FACIAL_EXPRESSION.name}:predict`, { method: 'POST', body: JSON.stringify({ instances: rows }) });
    expect(predict.status).to.equal(200);
    reference = ((await predict.json()) as { predictions: number[][] }).predictions[0]!;
    caseFile = path.join(dir, 'case.json');
    writeFileSync(
      caseFile,
      JSON.stringify({
        model: FACIAL_EXPRESSION.name,
        version: FACIAL_EXPRESSION.version,
        input,
        output,
        image,
        identity_models: Object.fromEntries(DATATYPES.map((d) => [d, identityModelName(d)])),
      }),
    );
  });

  after(async () => {
    await runtime?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('tritonclient: health, metadata, every datatype binary and JSON both ways, answers equal to TF Serving :predict, errors', async () => {
    const report = (await runPythonClient(python, 'triton_http_client.py', [runtime.url, caseFile])) as TritonReport;
    expect([report.live, report.ready, report.model_ready, report.model_ready_unknown]).to.deep.equal([true, true, true, false]);
    expect(report.server_metadata.name).to.equal('mloffload');
    expect(report.server_metadata.extensions).to.include('binary_tensor_data');
    expect(report.model_metadata).to.include({ name: FACIAL_EXPRESSION.name });
    expect(report.model_metadata.versions).to.deep.equal([FACIAL_EXPRESSION.version]);
    expect(report.model_metadata.inputs).to.deep.equal([{ name: (report.model_metadata.inputs[0] as { name: string }).name, datatype: 'FP32', shape: [-1, 64, 64, 1] }]);
    expect(report.model_metadata_version.name).to.equal(FACIAL_EXPRESSION.name);

    expect(Object.keys(report.expression).sort()).to.deep.equal([...COMBINATIONS, 'all_outputs_versioned'].sort());
    for (const [combination, seen] of Object.entries(report.expression)) {
      expectSameFloat32(seen.scores, reference);
      if (combination !== 'all_outputs_versioned') {
        expect(seen.id, combination).to.equal('expr-1');
        expect(seen.output_has_data, combination).to.equal(combination.endsWith('out_json'));
      }
    }

    expect(Object.keys(report.datatypes)).to.deep.equal(DATATYPES);
    for (const [datatype, combinations] of Object.entries(report.datatypes)) {
      expect(Object.keys(combinations), datatype).to.deep.equal(COMBINATIONS);
      for (const [combination, seen] of Object.entries(combinations)) {
        expect(seen.got, `${datatype} ${combination}`).to.deep.equal(seen.sent);
        expect(seen.shape, `${datatype} ${combination}`).to.deep.equal([2, 3]);
        expect(seen.output_has_data, `${datatype} ${combination}`).to.equal(combination.endsWith('out_json'));
      }
    }

    expect(report.errors.unknown_model).to.include({ status: '404' });
    expect(report.errors.unknown_model!.message).to.contain("'no-such-model'");
    expect(report.errors.unknown_version).to.include({ status: '404' });
    expect(report.errors.wrong_datatype).to.include({ status: '400' });
    expect(report.errors.wrong_datatype!.message).to.contain("'INT32'").and.to.contain("'FP32'");
    expect(report.errors.wrong_shape).to.include({ status: '400' });
    expect(report.errors.wrong_shape!.message).to.contain('[1, 32, 32, 1]');
  });

  it('KServe InferenceRESTClient (v2): health, readiness, every datatype binary and JSON, answers equal to TF Serving :predict, errors', async () => {
    const report = (await runPythonClient(python, 'kserve_v2_client.py', [runtime.url, caseFile])) as KServeReport;
    expect([report.live, report.ready, report.model_ready, report.model_ready_unknown]).to.deep.equal([true, true, true, false]);
    expect(Object.keys(report.expression)).to.deep.equal(COMBINATIONS);
    for (const seen of Object.values(report.expression)) {
      expectSameFloat32(seen.scores, reference);
      expect(seen.id).to.equal('kserve-1');
    }
    expect(Object.keys(report.datatypes)).to.deep.equal(DATATYPES);
    for (const [datatype, combinations] of Object.entries(report.datatypes)) {
      // KServe's client itself refuses FP16 as JSON; every other datatype goes both ways.
      expect(Object.keys(combinations), datatype).to.deep.equal(datatype === 'FP16' ? ['in_binary'] : ['in_binary', 'in_json']);
      for (const [combination, seen] of Object.entries(combinations)) {
        expect(seen.got, `${datatype} ${combination}`).to.deep.equal(seen.sent);
        expect(seen.shape, `${datatype} ${combination}`).to.deep.equal([2, 3]);
      }
    }
    expect(report.unknown_model_error).to.include({ status: 404 });
    expect(report.unknown_model_error!.message).to.contain("Request for unknown model: 'no-such-model' is not found");
  });
});
