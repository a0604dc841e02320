/**
 * The TypeScript type a schema in the modelSpec.schema.ts dialect accepts, computed by the compiler, so that
 * hand-written interfaces (which carry the documentation) can be held equal to their schema: a field added,
 * dropped, made optional or retyped on one side only fails `npm run lint`.
 */

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type Tuple<T, N extends number, Acc extends T[] = []> = Acc['length'] extends N ? Acc : Tuple<T, N, [...Acc, T]>;

/** A fixed-length array (`minItems` = `maxItems`, small) is a tuple; others are arrays. */
type ArrayOf<T, S> = S extends { minItems: infer N extends number; maxItems: infer M extends number }
  ? [N] extends [M]
    ? N extends 2 | 3 | 4
      ? Tuple<T, N>
      : T[]
    : T[]
  : T[];

type ObjectOf<P, R extends PropertyKey> = Simplify<
  { -readonly [K in keyof P as K extends R ? K : never]: FromSchema<P[K]> } & { -readonly [K in keyof P as K extends R ? never : K]?: FromSchema<P[K]> }
>;

export type FromSchema<S> = S extends { enum: readonly (infer E)[] }
  ? E
  : S extends { type: 'string' }
    ? string
    : S extends { type: 'integer' | 'number' }
      ? number
      : S extends { type: 'boolean' }
        ? boolean
        : S extends { type: 'array'; items: infer I }
          ? ArrayOf<FromSchema<I>, S>
          : S extends { type: 'object'; properties: infer P }
            ? ObjectOf<P, S extends { required: readonly (infer R extends PropertyKey)[] } ? R : never>
            : S extends { type: 'object'; additionalProperties: infer A }
              ? Record<string, FromSchema<A>>
              : never;

/** True only when A and B are the same type (optionality and readonly-ness included). */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
