import { UndeclaredSecuritySchemeError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

/**
 * An operation's `security` may only name schemes the document declares (components.securitySchemes): a requirement
 * on a scheme nobody can look up tells a receiver nothing. Checked when the document is built, where it is known.
 */
export function checkSecurity (operation: Json, document: Json, label: string): void {
  if (!Array.isArray(operation.security)) return
  const schemes = isObject(document.components) && isObject(document.components.securitySchemes) ? document.components.securitySchemes : {}
  for (const requirement of operation.security as unknown[]) {
    for (const scheme of isObject(requirement) ? Object.keys(requirement) : []) {
      if (!Object.hasOwn(schemes, scheme)) throw new UndeclaredSecuritySchemeError(label, scheme)
    }
  }
}
