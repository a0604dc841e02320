/**
 * An Apertium mode file is a shell pipeline (`lt-proc 'x.automorf.bin' | apertium-tagger -g $2 'x.prob' | ...`).
 * The runtime never hands it to a shell: it is parsed here into one argv per stage, each stage is checked
 * against the programs a language pair may run, and the stages are spawned directly with their pipes
 * connected (see `pipelineProcess.ts`).
 */

/** One stage of a pipeline: a program (found on PATH) and its arguments. */
export interface PipelineStage {
  program: string;
  args: string[];
}

/**
 * Programs a pair's mode may run: the lttoolbox, Apertium, lexical-selection, recursive-transfer, HFST and
 * Constraint Grammar tools. A mode naming anything else (a path, a shell, an interpreter) is refused.
 */
const ALLOWED_PROGRAM = /^(lt-proc|lrx-proc|rtx-proc|cg-proc|vislcg3|hfst-proc|apertium-[a-z0-9][a-z0-9-]*)$/;

/**
 * What the `apertium` command substitutes for the mode's placeholders with the text format (`-f txt`):
 * `$1` is the generator's mode (`-g`: unknown words marked with `*`), `$2` the tagger's extra option (none).
 */
const PLACEHOLDERS: Record<string, string | undefined> = { $1: '-g', $2: undefined };

/** Characters that mean something to a shell outside quotes: a mode using them is not a plain pipeline. */
const SHELL_SYNTAX = /[;&<>`"(){}*?~\\#\n]|\$(?![12]\b)/;

export class ModeSyntaxError extends Error {}

/**
 * Splits a mode's pipeline into stages. Accepted syntax: words, single-quoted words, `$1`/`$2` and `|`; the
 * whole of what Apertium's own modes use. Throws ModeSyntaxError for anything else.
 */
export function parseModePipeline(text: string): PipelineStage[] {
  const stages: string[][] = [[]];
  let i = 0;
  const s = text.trim();
  if (!s) throw new ModeSyntaxError('the mode is empty');
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '|') {
      if (stages[stages.length - 1].length === 0) throw new ModeSyntaxError(`empty stage before "|" at offset ${i}`);
      stages.push([]);
      i++;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ModeSyntaxError(`unterminated quote at offset ${i}`);
      stages[stages.length - 1].push(s.slice(i + 1, end));
      i = end + 1;
    } else {
      let end = i;
      while (end < s.length && !' \t|\''.includes(s[end])) end++;
      const word = s.slice(i, end);
      const bad = SHELL_SYNTAX.exec(word);
      if (bad) throw new ModeSyntaxError(`shell syntax ${JSON.stringify(bad[0])} in ${JSON.stringify(word)}: only plain pipelines are served`);
      if (word in PLACEHOLDERS) {
        const value = PLACEHOLDERS[word];
        if (value !== undefined) stages[stages.length - 1].push(value);
      } else {
        stages[stages.length - 1].push(word);
      }
      i = end;
    }
  }
  if (stages[stages.length - 1].length === 0) throw new ModeSyntaxError('the mode ends with "|"');
  return stages.map(([program, ...args]) => {
    if (!ALLOWED_PROGRAM.test(program)) throw new ModeSyntaxError(`program ${JSON.stringify(program)} is not an Apertium, lttoolbox or CG tool`);
    return { program, args };
  });
}

/** Files a pipeline reads (absolute paths among its arguments), to report a missing pair before serving. */
export function pipelineDataFiles(stages: readonly PipelineStage[]): string[] {
  return [...new Set(stages.flatMap((s) => s.args.filter((a) => a.startsWith('/'))))];
}

/** A shell-like rendering for messages and logs (never executed). */
export function describePipeline(stages: readonly PipelineStage[]): string {
  return stages.map((s) => [s.program, ...s.args].join(' ')).join(' | ');
}
