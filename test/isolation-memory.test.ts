import t from 'tap'
import { createMemoryEngine } from '../lib/index.js'
import { isolationSuite } from './isolation-suite.js'

isolationSuite(t, { name: 'memory engine', make: () => createMemoryEngine() })
