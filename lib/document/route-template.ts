import { compileCallbackKey } from '../expression/template.js'
import type { CallbackUrlTemplate, ParentRoute } from '../expression/template.js'
import type { Json } from '../util/json.js'
import type { CallbackRegistry } from './registry.js'

// A template depends only on the key and the route's schemas: routes that share those objects share the compiled
// template, and each route is still checked, as its own schemas are the key. A check that read a shared schema
// (`$ref`) is not shared, as each context has its own shared schemas.
export function routeTemplate (templates: CallbackRegistry['templates'], url: string, schema: Json, parentRoute: () => ParentRoute): CallbackUrlTemplate {
  const inputs = [url, schema.querystring, schema.params, schema.headers, schema.body, schema.response]
  const known = templates.get(inputs)
  if (known !== undefined) return known
  const parent = parentRoute()
  let resolved = false
  const template = compileCallbackKey(url, { ...parent, resolveRef: ref => { resolved = true; return parent.resolveRef(ref) } })
  if (!resolved) templates.set(inputs, template)
  return template
}
