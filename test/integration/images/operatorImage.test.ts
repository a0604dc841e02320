// The operator image of `npm run images`, run with podman against the test control plane as the chart runs
// it (uid 1000, read-only root, no capabilities): it reconciles an MLService to Ready and stops on SIGTERM.
// Host networking gives it the control plane's loopback address; it binds its own port on loopback only.
import { chmodSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { NODE_PATH } from '../../../deploy/images/nodeBinary.js';
import { DEPLOYMENTS, MLMODELS, MLSERVICES } from '../../../operator/kube/resources.js';
import { type TestControlPlane, controlPlaneStartTimeout, freshNamespace, useControlPlane } from '../../helpers/controlPlane.js';
import type { V1Deployment } from '@kubernetes/client-node';
import { type RunningImage, type TestImage, imageBuildTimeout, imageOrSkip, runImage, scratchDir } from '../../helpers/containerImages.js';
import { freePort } from '../../env/processes.js';
import { eventually } from '../../helpers/eventually.js';
import { condition, create, emotionModel, faceDetectorModel, installCrds, mlService, mustRead } from '../operator/support.js';
import type { MLService } from '../../../operator/api/types.js';

/** What the chart's Deployment gives the operator container (charts/mloffload/templates/deployment.yaml). */
const TERMINATION_GRACE_SECONDS = 40;

describe('operator image (podman)', function () {
  this.timeout(300_000);
  let image: TestImage;
  let cp: TestControlPlane;
  let operator: RunningImage | undefined;
  let metrics: string;
  const work = scratchDir('mloffload-operator-image-');

  before(async function () {
    this.timeout(imageBuildTimeout + controlPlaneStartTimeout);
    image = await imageOrSkip(this, 'operator');
    cp = await useControlPlane();
    await installCrds();
  });

  after(async function () {
    this.timeout(60_000);
    await operator?.stop();
    work.remove();
  });

  it('runs node from the image as uid 1000', () => {
    expect(image.config.user).to.equal('1000:1000');
    expect(image.config.entrypoint).to.deep.equal([NODE_PATH, '/app/dist/operator/main.js']);
    expect(image.config.stopSignal).to.equal('SIGTERM');
  });

  it('reconciles an MLService to Ready on the test control plane', async () => {
    const ns = await freshNamespace('opimage');
    // The admin kubeconfig (certificates inlined), readable by the container's user.
    const kubeconfig = join(work.dir, 'kubeconfig');
    copyFileSync(cp.kubeconfigPath, kubeconfig);
    chmodSync(kubeconfig, 0o644);
    const port = await freePort();
    metrics = `http://127.0.0.1:${port}`;
    const runtimeImage = 'registry.example/mloffload/inference-runtime:image-test';
    operator = runImage({
      image,
      name: `mloffload-operator-test-${process.pid}`,
      flags: [
        '--network', 'host',
        '--read-only', '--read-only-tmpfs=false',
        '--cap-drop', 'ALL',
        '--security-opt', 'no-new-privileges',
        '--volume', `${kubeconfig}:/etc/mloffload/kubeconfig:ro`,
        '--env', 'POD_NAME=mloffload-0',
        '--env', `POD_NAMESPACE=${ns}`,
      ],
      args: ['--kubeconfig=/etc/mloffload/kubeconfig', `--namespace=${ns}`, '--metrics-host=127.0.0.1', `--metrics-port=${port}`, `--runtime-image=${runtimeImage}`, '--log-level=info'],
    });

    await create(MLMODELS, faceDetectorModel(ns));
    await create(MLMODELS, emotionModel(ns));
    await create(MLSERVICES, mlService(ns, 'faces', { models: [{ name: 'face-detector' }, { name: 'facial-expression' }], replicas: 1 }));
    await eventually(
      async () => {
        const svc = await mustRead<MLService>(MLSERVICES, ns, 'faces');
        expect(condition(svc, 'Ready')?.status, JSON.stringify(svc.status)).to.equal('True');
      },
      { timeout: 180_000, interval: 1_000, message: `MLService Ready\n${operator.output().slice(-3000)}` },
    );
    const deployment = await mustRead<V1Deployment>(DEPLOYMENTS, ns, 'faces');
    expect(deployment.spec!.template.spec!.containers[0].image).to.equal(runtimeImage);

    expect((await fetch(`${metrics}/readyz`)).status).to.equal(200);
    const text = await (await fetch(`${metrics}/metrics`)).text();
    expect(text).to.match(/^reconcile_total\{[^}]*\} [1-9]/m);
  });

  it('stops on SIGTERM as PID 1 within the grace period the chart gives it', async function () {
    if (!operator) this.skip();
    const { exitCode, ms } = await operator!.stopGracefully(TERMINATION_GRACE_SECONDS);
    expect(exitCode).to.equal(0);
    expect(ms).to.be.below(TERMINATION_GRACE_SECONDS * 1000);
    await operator!.waitForLog((l) => l.msg === 'shutting down', 1_000);
    operator = undefined;
  });
});
