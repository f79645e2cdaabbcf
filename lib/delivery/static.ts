/**
 * The static type of a schema, read from its shape alone, so that the emitted declarations import none of the
 * optional schema libraries: TypeBox 0.34's phantom `static`, zod 4's phantom `_zod.input` and `_zod.output`, and the
 * `~kind` that typebox 1.x schemas carry (its common kinds; any other gives unknown). Plain JSON Schema gives unknown.
 */
export type SchemaStatic<T, Side extends 'input' | 'output'> =
  T extends { static: infer V } ? V
    : T extends { _zod: { input: infer I, output: infer O } } ? (Side extends 'input' ? I : O)
      : KindStatic<T>

type KindStatic<T> =
  T extends { '~kind': 'String' } ? string
    : T extends { '~kind': 'Number' | 'Integer' } ? number
      : T extends { '~kind': 'Boolean' } ? boolean
        : T extends { '~kind': 'Null' } ? null
          : T extends { '~kind': 'Literal', const: infer V } ? V
            : T extends { '~kind': 'Array', items: infer I } ? Array<KindStatic<I>>
              : T extends { '~kind': 'Union', anyOf: ReadonlyArray<infer M> } ? KindStatic<M>
                : T extends { '~kind': 'Object', properties: infer P } ? ObjectStatic<P>
                  : unknown

type OptionalKeys<P> = { [K in keyof P]: P[K] extends { '~optional': true } ? K : never }[keyof P]
type ObjectStatic<P> = Flatten<{ [K in Exclude<keyof P, OptionalKeys<P>>]: KindStatic<P[K]> } & { [K in OptionalKeys<P>]?: KindStatic<P[K]> }>
type Flatten<T> = { [K in keyof T]: T[K] }
