import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

describe('compilation footprint of the serving process (real model)', function () {
  this.timeout(180_000);

  it('compiles and verifies a cold model in a process that takes tfjs with it, and finds it in the cache without tfjs', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(here, 'compileFootprint.ts')], { cwd: path.resolve(here, '../../../..'), timeout: 150_000 });
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, boolean>;
    expect(report).to.deep.equal({ coldVerified: true, coldFromCache: false, warmVerified: true, warmFromCache: true, tfjsInMainThread: false });
  });
});
