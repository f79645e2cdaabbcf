// The memory engine passes the engine conformance suite, its timers on the suite's clock.
import { createMemoryEngine } from '../lib/delivery/engines/memory-engine.js'
import { engineConformance } from './engines/conformance.js'

engineConformance({
  name: 'the memory engine',
  make: (_store, clock) => createMemoryEngine({ clock }),
  capabilities: { clock: true, durable: false, operations: false }
})
