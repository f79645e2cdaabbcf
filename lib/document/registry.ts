import { DuplicateDefinitionError } from '../util/errors.js'
import type { OperationSkeleton } from './operation.js'
import type { Json } from '../util/json.js'

/** What the document needs to put an operation back together, by carrier id. */
export type CarriedOperation =
  | { kind: 'definition', skeleton: OperationSkeleton }
  | { kind: 'raw', fields: Json, defaultResponses: boolean }

/** State shared by every route of one plugin instance. */
export interface CallbackRegistry {
  operationIds: Map<string, string>
  carried: Map<string, CarriedOperation>
}

/** An operationId-safe form of a name or path. */
export function identifier (text: string): string {
  return text.replace(/[\W_]+/g, '_').replace(/^_+|_+$/g, '')
}

/** Claims an operationId for the whole document; a second claim is a startup error naming both. */
export function claimOperationId (registry: CallbackRegistry, operationId: string, owner: string): void {
  const previous = registry.operationIds.get(operationId)
  if (previous !== undefined) {
    throw new DuplicateDefinitionError(owner, `operationId "${operationId}" is already used by ${previous}; operationIds must be unique in the document`)
  }
  registry.operationIds.set(operationId, owner)
}

export function createRegistry (): CallbackRegistry {
  return { operationIds: new Map(), carried: new Map() }
}
