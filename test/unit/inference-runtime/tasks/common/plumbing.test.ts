/**
 * One way a task request is read, timed, deadlined and metered: tasks/common/ holds that plumbing, and task
 * modules reach the deadline, the body, the timer and the engines only through it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const tasksDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../inference-runtime/tasks');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'common' ? [] : sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

/** What a task module must leave to tasks/common, with why. */
const bypasses: [RegExp, string][] = [
  [/ctx\.state\.(deadline|model|inferenceSeconds)\b/, 'reads the deadline or labels metrics itself (TaskRequest does)'],
  [/\bfrom\s+'[./]+\/http\/(deadline|requestBody)\.js'/, 'reads the body or races the deadline itself (beginTask, withinDeadline)'],
  [/\bnew\s+(StageTimer|MeteredModel|InferenceSession)\b/, 'times or meters itself (TaskRequest.timer, TaskRequest.models)'],
  [/\bregistry\.(forTask|resolve)\(/, 'runs a model outside the request session (TaskRequest.models)'],
];

describe('task request plumbing', () => {
  it('finds a bypass when there is one (the check can fail)', () => {
    const route = "const deadline = ctx.state.deadline; const m = context.registry.forTask('x');";
    expect(bypasses.filter(([pattern]) => pattern.test(route))).to.have.length(2);
  });

  it('leaves reading, timing, deadlines and metering of every task route to tasks/common', () => {
    const files = sources(tasksDir);
    expect(files.map((f) => path.relative(tasksDir, f))).to.include.members(['vision/textRouter.ts', 'translation/routes.ts', 'speech/recognition.ts', 'dialog/intent.ts']);
    const found = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return bypasses.filter(([pattern]) => pattern.test(text)).map(([, why]) => `${path.relative(tasksDir, file)} ${why}`);
    });
    expect(found).to.deep.equal([]);
  });
});
