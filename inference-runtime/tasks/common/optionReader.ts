import { InvalidInput } from '../../core/errors.js';
import { previewJson } from '../../http/jsonInput.js';

/**
 * Task options arrive as query parameters or as fields of a JSON or multipart body (strings there); body
 * fields win over the query. Each is checked here so a typo'd value is a 400, not a silent default.
 */
export class OptionReader {
  constructor(
    private readonly query: Record<string, string | string[] | undefined>,
    private readonly fields: Record<string, unknown>,
  ) {}

  private raw(name: string): unknown {
    if (this.fields[name] !== undefined) return this.fields[name];
    const q = this.query[name];
    return Array.isArray(q) ? q[q.length - 1] : q;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined || raw === '') return fallback;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new InvalidInput(`${name} must be a number from ${min} to ${max}, got ${previewJson(raw)}`);
    }
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.number(name, fallback, min, max);
    if (!Number.isInteger(value)) throw new InvalidInput(`${name} must be a whole number, got ${value}`);
    return value;
  }

  /** A text option, or undefined when absent; a body may only give a string. */
  text(name: string): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') throw new InvalidInput(`${name} must be a string, got ${previewJson(raw)}`);
    return raw;
  }

  /** One of `values`, or undefined when absent. */
  choice<T extends string>(name: string, values: readonly T[]): T | undefined {
    const raw = this.raw(name);
    if (raw === undefined || raw === '') return undefined;
    if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) {
      throw new InvalidInput(`${name} must be ${values.join(' or ')}, got ${previewJson(raw)}`);
    }
    return raw as T;
  }

  /**
   * A list of strings, or undefined when absent: a JSON array in a body; in the query the parameter repeated or
   * `|`-separated, blanks dropped, at most `maxInQuery` items (a URL is no place for a long list).
   */
  list(name: string, maxInQuery: number): string[] | undefined {
    const field = this.fields[name];
    if (field !== undefined) {
      if (!Array.isArray(field) || field.some((v) => typeof v !== 'string')) throw new InvalidInput(`${name} must be a list of strings`);
      return field as string[];
    }
    const q = this.query[name];
    if (q === undefined) return undefined;
    const items = (Array.isArray(q) ? q : [q]).flatMap((v) => v.split('|')).map((v) => v.trim()).filter(Boolean);
    if (items.length > maxInQuery) throw new InvalidInput(`at most ${maxInQuery} ${name} fit in the query; send more in a JSON body`);
    return items;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined || raw === '') return fallback;
    if (raw === true || raw === 'true' || raw === '1') return true;
    if (raw === false || raw === 'false' || raw === '0') return false;
    throw new InvalidInput(`${name} must be true or false, got ${previewJson(raw)}`);
  }
}
