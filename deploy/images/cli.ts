// `npm run images [-- <image>...] [--force]`: see build.ts.
import { buildImages } from './build.js';
import { CommandError } from './command.js';
import { type ImageName, images } from './images.js';

function parseCli(argv: string[]): { names: ImageName[]; force: boolean } {
  const names: ImageName[] = [];
  let force = false;
  for (const a of argv) {
    if (a === '--force') force = true;
    else if (a in images) names.push(a as ImageName);
    else throw new Error(`unknown argument ${a}; usage: npm run images -- [${Object.keys(images).join('|')}]... [--force]`);
  }
  return { names: names.length ? names : (Object.keys(images) as ImageName[]), force };
}

const { names, force } = parseCli(process.argv.slice(2));
buildImages(names, { force }).then(
  () => undefined,
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error instanceof CommandError ? error.message : error.stack) : String(error)}\n`);
    process.exitCode = 1;
  },
);
