import { test, type Test } from 'tap'
import http from 'node:http'
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { BlockList, isIP, type AddressInfo, type LookupFunction } from 'node:net'
import { request, type Agent, type Dispatcher } from 'undici'
import { createAddressPolicy, type AddressPolicyOptions } from '../lib/address-policy/address-policy.js'
import { ForbiddenAddressError } from '../lib/util/errors.js'

const FORBIDDEN = 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS'
const INVALID_URL = 'FST_OPENAPI_CALLBACKS_INVALID_URL'
const INVALID_POLICY = 'FST_OPENAPI_CALLBACKS_INVALID_ADDRESS_POLICY'

interface Receiver {
  port: number
  /** TCP connections and HTTP requests received so far, on 127.0.0.1 and ::1 */
  received: () => { connections: number, requests: number }
  close: () => Promise<void>
}

function listen (server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function close (server: http.Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

/**
 * A receiver on 127.0.0.1 and ::1, on the same random port, that counts everything it gets,
 * so that a request the policy lets through to any loopback address shows up here.
 */
async function startReceiver (): Promise<Receiver> {
  const counts = { connections: 0, requests: 0 }
  const createServer = (): http.Server => http.createServer((req, res) => {
    counts.requests++
    res.end('received')
  }).on('connection', () => { counts.connections++ })
  for (;;) {
    const v4 = createServer()
    const v6 = createServer()
    await listen(v4, 0, '127.0.0.1')
    const { port } = v4.address() as AddressInfo
    try {
      await listen(v6, port, '::1')
    } catch {
      await close(v4) // the port is taken on ::1: try another one
      continue
    }
    return {
      port,
      received: () => ({ ...counts }),
      close: async () => { await Promise.all([close(v4), close(v6)]) }
    }
  }
}

/**
 * The injected lookup is the only fake in these tests: no DNS server can run here, so names that
 * resolve to chosen addresses are simulated with a dns.lookup-compatible function. It answers like
 * dns.lookup: every address with { all: true } (Node's default autoSelectFamily), the first otherwise.
 */
function fakeLookup (answers: Record<string, LookupAddress[]>): LookupFunction {
  return (hostname, options, callback) => {
    const addresses = answers[hostname.toLowerCase()] // DNS names are case-insensitive
    if (addresses === undefined) {
      const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`)
      error.code = 'ENOTFOUND'
      process.nextTick(callback, error, [])
      return
    }
    if (options.all === true) {
      process.nextTick(callback, null, addresses)
    } else {
      process.nextTick(callback, null, addresses[0]?.address, addresses[0]?.family)
    }
  }
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 })
const v6 = (address: string): LookupAddress => ({ address, family: 6 })

/*
 * Wire tests really send through the policy's agent. If the policy were broken they would connect,
 * so they only use hosts that lead back to this machine whatever the policy does: every form below
 * is checked by assertOnBox before anything is sent, with Node's BlockList, not with the code under test.
 * Linux connects the unspecified addresses 0.0.0.0 and :: to loopback.
 */
const ON_BOX = new BlockList()
ON_BOX.addSubnet('127.0.0.0', 8, 'ipv4')
ON_BOX.addAddress('0.0.0.0', 'ipv4')
ON_BOX.addAddress('::1', 'ipv6')
ON_BOX.addAddress('::', 'ipv6')
ON_BOX.addSubnet('::ffff:127.0.0.0', 104, 'ipv6')
const isOnBox = (address: string): boolean => isIP(address) !== 0 && ON_BOX.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6')

/** The only names wire tests may use besides localhost, and all they resolve to. */
const ON_BOX_NAMES: Record<string, LookupAddress[]> = {
  'loopback.test': [v4('127.0.0.1')],
  'ipv6-loopback.test': [v6('::1')],
  'mapped.test': [v6('::ffff:127.0.0.1')],
  'loopback-v4-then-v6.test': [v4('127.0.0.1'), v6('::1')],
  'loopback-v6-then-v4.test': [v6('::1'), v4('127.0.0.1')],
  'trusted-loopback.test': [v4('127.0.0.1')]
}
const onBoxDns = fakeLookup(ON_BOX_NAMES)

function resolveAll (lookup: LookupFunction, hostname: string, options: LookupOptions = { all: true }): Promise<{ error: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number }> {
  return new Promise((resolve) => {
    lookup(hostname, options, (error, address, family) => resolve({ error, address, family }))
  })
}

/**
 * Throws unless every address `url` may reach is on this machine: an on-box IP literal, localhost
 * resolved for real, or a name of ON_BOX_NAMES resolved by onBoxDns; no other name is even resolved.
 */
async function assertOnBox (url: string, lookup: LookupFunction | undefined): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')
  if (isIP(host) !== 0) {
    if (!isOnBox(host)) {
      throw new Error(`refusing to send to ${url}: ${host} is not on this machine`)
    }
    return
  }
  const allowed = lookup === undefined ? host === 'localhost' : lookup === onBoxDns && Object.hasOwn(ON_BOX_NAMES, host)
  if (!allowed) {
    throw new Error(`refusing to send to ${url}: wire tests resolve only localhost for real and the names of ON_BOX_NAMES with onBoxDns`)
  }
  const { error, address } = await resolveAll(lookup ?? (dnsLookup as LookupFunction), host)
  const addresses = Array.isArray(address) ? address.map((answer) => answer.address) : []
  if (error !== null || addresses.length === 0 || !addresses.every(isOnBox)) {
    throw new Error(`refusing to send to ${url}: ${host} resolves to ${JSON.stringify(addresses)}, not only to this machine (${String(error)})`)
  }
}

/** The only way these tests send anything: a fresh agent of a policy with `options`, after assertOnBox. */
async function sendOnBox (t: Test, url: string, options: AddressPolicyOptions, agentOptions?: Agent.Options): Promise<Dispatcher.ResponseData> {
  await assertOnBox(url, options.lookup)
  const agent = createAddressPolicy(options).createAgent(agentOptions)
  t.teardown(() => agent.close())
  return await request(url, { dispatcher: agent })
}

interface WireForm {
  /** what the form is, for the test name */
  form: string
  url: (port: number) => string
  /** an IP literal is refused by checkUrl already; a name only when connecting */
  literal: boolean
  policy?: AddressPolicyOptions
  agent?: Agent.Options
}

const literal = (form: string, host: string, scheme = 'http'): WireForm =>
  ({ form, literal: true, url: (port) => `${scheme}://${host}:${port}/callback` })
const name = (form: string, host: string, extra: Partial<WireForm> = {}): WireForm =>
  ({ form, literal: false, url: (port) => `http://${host}:${port}/callback`, policy: { allowHttp: true, lookup: onBoxDns }, ...extra })
const trusting127 = { allowHttp: true, allow: ['127.0.0.1'], lookup: onBoxDns }

// Forms that would reach the receiver on 127.0.0.1 / ::1 if the policy let them through.
const WIRE: WireForm[] = [
  // IPv4 loopback in every notation the WHATWG parser accepts
  literal('loopback, dotted decimal', '127.0.0.1'),
  literal('loopback, decimal integer', '2130706433'),
  literal('loopback, hex integer', '0x7f000001'),
  literal('loopback, hex short form', '0x7f.1'),
  literal('loopback, octal', '0177.0.0.1'),
  literal('loopback, short form', '127.1'),
  literal('loopback, mixed hex and octal parts', '0x7f.0.00.01'),
  literal('loopback, another 127/8 address', '127.0.0.2'),
  literal('loopback over https (refused before TLS)', '127.0.0.1', 'https'),
  literal('unspecified 0.0.0.0', '0.0.0.0'),
  literal('unspecified, short form 0', '0'),
  // IPv6 loopback and unspecified, IPv4-mapped loopback
  literal('IPv6 unspecified [::]', '[::]'),
  literal('IPv6 loopback [::1]', '[::1]'),
  literal('IPv6 loopback, full form', '[0:0:0:0:0:0:0:1]'),
  literal('IPv6 loopback over https (refused before TLS)', '[::1]', 'https'),
  literal('IPv4-mapped loopback, dotted', '[::ffff:127.0.0.1]'),
  literal('IPv4-mapped loopback, hex', '[::ffff:7f00:1]'),
  // Names
  { form: 'localhost (real resolution)', literal: false, url: (port) => `http://localhost:${port}/callback`, policy: { allowHttp: true } },
  { form: 'localhost over https (real resolution, refused before TLS)', literal: false, url: (port) => `https://localhost:${port}/callback`, policy: {} },
  name('a name resolving to 127.0.0.1', 'loopback.test'),
  name('a name resolving only to IPv6 loopback', 'ipv6-loopback.test'),
  name('a name resolving to IPv4-mapped loopback', 'mapped.test'),
  name('a name resolving to loopback, without autoSelectFamily (one address)', 'loopback.test', { agent: { connect: { autoSelectFamily: false } } }),
  // A trusted address next to a forbidden one: a policy that checks only the first answer, or lets
  // Node fall back to the next, would reach the receiver here.
  name('a name resolving to trusted 127.0.0.1, then forbidden ::1', 'loopback-v4-then-v6.test', { policy: trusting127 }),
  name('a name resolving to forbidden ::1, then trusted 127.0.0.1', 'loopback-v6-then-v4.test', { policy: trusting127 }),
  name('a name resolving to forbidden ::1, then trusted 127.0.0.1, without autoSelectFamily', 'loopback-v6-then-v4.test', { policy: trusting127, agent: { connect: { autoSelectFamily: false } } })
]

// IP literals off this machine: checked by checkUrl only, never sent.
const SOCKET_FREE_LITERALS: Array<[form: string, host: string]> = [
  ['unspecified 0/8', '0.1.2.3'],
  // IPv4-mapped, -compatible and -translated
  ['IPv4-mapped metadata address', '[::ffff:169.254.169.254]'],
  ['IPv4-mapped private 10/8', '[::ffff:10.0.0.1]'],
  ['IPv4-compatible loopback (deprecated ::/96)', '[::7f00:1]'],
  ['IPv4-translated loopback ::ffff:0:0/96', '[::ffff:0:7f00:1]'],
  // IPv6 transition ranges that embed an IPv4 address
  ['NAT64 of loopback', '[64:ff9b::7f00:1]'],
  ['NAT64 of the metadata address', '[64:ff9b::a9fe:a9fe]'],
  ['NAT64 local-use prefix', '[64:ff9b:1::7f00:1]'],
  ['6to4 of loopback', '[2002:7f00:1::]'],
  ['Teredo', '[2001::1]'],
  // Link-local, cloud metadata, carrier-grade NAT, private, reserved, multicast, broadcast
  ['cloud metadata 169.254.169.254', '169.254.169.254'],
  ['cloud metadata, hex', '0xa9.0xfe.0xa9.0xfe'],
  ['cloud metadata, octal', '0251.0376.0251.0376'],
  ['cloud metadata, decimal integer', '2852039166'],
  ['carrier-grade NAT 100.64/10, low end', '100.64.0.1'],
  ['carrier-grade NAT 100.64/10, high end', '100.127.255.254'],
  ['private 10/8', '10.0.0.1'],
  ['private 10/8, hex integer', '0x0a000001'],
  ['private 172.16/12, low end', '172.16.0.1'],
  ['private 172.16/12, high end', '172.31.255.254'],
  ['private 192.168/16', '192.168.1.1'],
  ['private 192.168/16, decimal integer', '3232235777'],
  ['IETF protocol assignments 192.0.0/24', '192.0.0.8'],
  ['documentation 192.0.2/24', '192.0.2.1'],
  ['benchmarking 198.18/15, low end', '198.18.0.1'],
  ['benchmarking 198.18/15, high end', '198.19.255.254'],
  ['multicast 224.0.0.1', '224.0.0.1'],
  ['multicast 239.255.255.250', '239.255.255.250'],
  ['reserved 240/4', '240.0.0.1'],
  ['limited broadcast', '255.255.255.255'],
  ['IPv6 unique local fc00::/7 (fc00::1)', '[fc00::1]'],
  ['IPv6 unique local fc00::/7 (fd00::1)', '[fd00::1]'],
  ['IPv6 link-local fe80::/10', '[fe80::1]'],
  ['IPv6 multicast ff02::1', '[ff02::1]'],
  ['IPv6 deprecated site-local fec0::/10', '[fec0::1]'],
  ['IPv6 documentation 2001:db8::/32', '[2001:db8::1]'],
  ['IPv6 discard 100::/64', '[100::1]']
]

// Public unicast addresses appear only in these socket-free checks: no test sends anything to them.
const PUBLIC_V4 = '93.184.216.34'
const PUBLIC_V6 = '2606:4700::1111'

// Names resolving off this machine: checked by calling the policy's lookup, never sent.
const offBoxDns = fakeLookup({
  'private.test': [v4('10.0.0.1')],
  'metadata.test': [v4('169.254.169.254')],
  'carrier-grade-nat.test': [v4('100.64.0.1')],
  'multicast.test': [v4('224.0.0.1')],
  'public-then-private.test': [v4(PUBLIC_V4), v4('10.0.0.1')],
  'private-then-public.test': [v4('10.0.0.1'), v4(PUBLIC_V4)],
  'public-v6-then-private-v4.test': [v6(PUBLIC_V6), v4('192.168.1.1')],
  'public-then-loopback.test': [v4(PUBLIC_V4), v4('127.0.0.1')],
  'unique-local.test': [v6('fd00::2')],
  'link-local-v6.test': [v6('fe80::1')],
  'nat64.test': [v6('64:ff9b::7f00:1')],
  'public.test': [v4(PUBLIC_V4), v6(PUBLIC_V6)],
  'internal.example': [v4('10.0.0.1')]
})

interface SocketFreeName {
  form: string
  host: string
  /** the answer the error names: the first forbidden one */
  refused: string
  /** as Node passes them: { all: true } with autoSelectFamily (the default), a single address without */
  options?: LookupOptions
}

const SOCKET_FREE_NAMES: SocketFreeName[] = [
  { form: 'a name resolving to 10.0.0.1', host: 'private.test', refused: '10.0.0.1' },
  { form: 'a name resolving to 169.254.169.254', host: 'metadata.test', refused: '169.254.169.254' },
  { form: 'a name resolving to carrier-grade NAT', host: 'carrier-grade-nat.test', refused: '100.64.0.1' },
  { form: 'a name resolving to multicast', host: 'multicast.test', refused: '224.0.0.1' },
  { form: 'a name resolving to a public, then a private address', host: 'public-then-private.test', refused: '10.0.0.1' },
  { form: 'a name resolving to a private, then a public address', host: 'private-then-public.test', refused: '10.0.0.1' },
  { form: 'a name resolving to a public IPv6, then a private IPv4 address', host: 'public-v6-then-private-v4.test', refused: '192.168.1.1' },
  { form: 'a name resolving to a public, then a loopback address', host: 'public-then-loopback.test', refused: '127.0.0.1' },
  { form: 'a name resolving to IPv6 unique local', host: 'unique-local.test', refused: 'fd00::2' },
  { form: 'a name resolving to IPv6 link-local', host: 'link-local-v6.test', refused: 'fe80::1' },
  { form: 'a name resolving to NAT64 of loopback', host: 'nat64.test', refused: '64:ff9b::7f00:1' },
  { form: 'a name resolving to 169.254.169.254, without autoSelectFamily (one address)', host: 'metadata.test', refused: '169.254.169.254', options: {} },
  { form: 'a name resolving to a private, then a public address, without autoSelectFamily', host: 'private-then-public.test', refused: '10.0.0.1', options: { family: 0 } }
]

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const REFUSAL = /which is .+: only public unicast addresses are allowed; add the host or address to `allow` to trust it$/

test('every forbidden address form is refused with a typed error', async (t) => {
  t.ok(WIRE.length + SOCKET_FREE_LITERALS.length + SOCKET_FREE_NAMES.length >= 40, `${WIRE.length} forms on the wire, ${SOCKET_FREE_LITERALS.length + SOCKET_FREE_NAMES.length} without a socket`)

  await t.test('on the wire, and nothing reaches the receiver on 127.0.0.1 and ::1', async (t) => {
    const receiver = await startReceiver()
    t.teardown(receiver.close)

    for (const { form, url: urlFor, literal, policy: policyOptions = { allowHttp: true }, agent: agentOptions } of WIRE) {
      await t.test(form, async (t) => {
        const policy = createAddressPolicy(policyOptions)
        const url = urlFor(receiver.port)

        if (literal) {
          t.throws(() => policy.checkUrl(url), { code: FORBIDDEN }, 'checkUrl refuses the IP literal')
        } else {
          t.equal(policy.checkUrl(url), url, 'checkUrl does not resolve names')
        }

        const before = receiver.received()
        const error = await sendOnBox(t, url, policyOptions, agentOptions).then(
          () => t.fail('the request went through'),
          (error: unknown) => error
        )
        t.ok(error instanceof ForbiddenAddressError, 'undici rejects with the typed error itself, not a wrapper')
        t.match(error, { code: FORBIDDEN, statusCode: 400, message: REFUSAL })
        t.same(receiver.received(), before, 'the receiver got no connection and no request')
      })
    }
    t.same(receiver.received(), { connections: 0, requests: 0 })
  })

  await t.test('IP literals off this machine, by checkUrl', async (t) => {
    const policy = createAddressPolicy({ allowHttp: true })
    for (const [form, host] of SOCKET_FREE_LITERALS) {
      const url = `http://${host}/callback`
      const error = t.throws(() => policy.checkUrl(url), form)
      t.ok(error instanceof ForbiddenAddressError, `${form}: the typed error`)
      t.match(error, {
        code: FORBIDDEN,
        statusCode: 400,
        message: new RegExp(`^Callback host ${escapeRegExp(new URL(url).hostname)} resolves to .+ ${REFUSAL.source}`)
      }, `${form}: code and message`)
    }
  })

  await t.test('names resolving off this machine, by the policy\'s lookup', async (t) => {
    const policy = createAddressPolicy({ lookup: offBoxDns })
    for (const { form, host, refused, options = { all: true } } of SOCKET_FREE_NAMES) {
      const { error, address } = await resolveAll(policy.lookup, host, options)
      t.ok(error instanceof ForbiddenAddressError, `${form}: the typed error`)
      t.match(error, {
        code: FORBIDDEN,
        statusCode: 400,
        message: new RegExp(`^Callback host ${escapeRegExp(host)} resolves to ${escapeRegExp(refused)}, ${REFUSAL.source}`)
      }, `${form}: code and message`)
      t.ok(address === undefined || address.length === 0, `${form}: no address`)
    }
  })
})

test('the wire guard refuses, before sending, every host not on this machine', async (t) => {
  const refused: Array<[url: string, lookup?: LookupFunction]> = [
    ['http://10.0.0.1:1/'],
    [`http://${PUBLIC_V4}:1/`],
    ['http://[2001:db8::1]:1/'],
    ['http://[::ffff:10.0.0.1]:1/'],
    ['http://[64:ff9b::7f00:1]:1/'],
    ['http://[::7f00:1]:1/'],
    ['http://example.com:1/'],
    ['http://localhost:1/', onBoxDns],
    ['http://private.test:1/', offBoxDns],
    ['http://loopback.test:1/', offBoxDns],
    ['http://unknown.test:1/', onBoxDns]
  ]
  for (const [url, lookup] of refused) {
    await t.rejects(assertOnBox(url, lookup), { message: /^refusing to send to / }, url)
  }
  for (const [hostname, answers] of Object.entries(ON_BOX_NAMES)) {
    t.ok(answers.every(({ address }) => isOnBox(address)), `${hostname} answers only with addresses on this machine`)
  }
})

test('the error says which host, which address and what it is', async (t) => {
  const policy = createAddressPolicy({ allowHttp: true, lookup: offBoxDns })
  t.throws(() => policy.checkUrl('https://0x7f.1/x'), {
    code: FORBIDDEN,
    message: 'Callback host 127.0.0.1 resolves to 127.0.0.1, which is loopback: only public unicast addresses are allowed; add the host or address to `allow` to trust it'
  })
  t.throws(() => policy.checkUrl('https://[64:ff9b::a9fe:a9fe]/x'), {
    message: /^Callback host \[64:ff9b::a9fe:a9fe\] resolves to 64:ff9b::a9fe:a9fe, which is linkLocal \(NAT64 of 169\.254\.169\.254\):/
  })
  t.throws(() => policy.checkUrl('https://[::7f00:1]/x'), { message: /which is outside global unicast 2000::\/3:/ })
  t.throws(() => policy.checkUrl('https://[2002:7f00:1::]/x'), { message: /which is 6to4:/ })

  const { error } = await resolveAll(policy.lookup, 'public-then-loopback.test')
  t.match(error, {
    code: FORBIDDEN,
    message: /^Callback host public-then-loopback\.test resolves to 127\.0\.0\.1, which is loopback:/
  })

  await t.rejects(sendOnBox(t, 'http://loopback-v6-then-v4.test:1/x', trusting127), {
    code: FORBIDDEN,
    message: 'Callback host loopback-v6-then-v4.test resolves to ::1, which is loopback: only public unicast addresses are allowed; add the host or address to `allow` to trust it'
  })
})

test('the lookup passes public answers, trusted names and DNS errors through unchanged', async (t) => {
  const policy = createAddressPolicy({ lookup: offBoxDns, allow: ['Internal.Example'] })

  t.same(await resolveAll(policy.lookup, 'public.test'), { error: null, address: [v4(PUBLIC_V4), v6(PUBLIC_V6)], family: undefined })
  t.same(await resolveAll(policy.lookup, 'public.test', {}), { error: null, address: PUBLIC_V4, family: 4 })
  t.same(await resolveAll(policy.lookup, 'INTERNAL.example'), { error: null, address: [v4('10.0.0.1')], family: undefined }, 'a host allowlisted by name is trusted whatever it resolves to')

  const { error } = await resolveAll(policy.lookup, 'unknown.test')
  t.match(error, { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND unknown.test' })
  t.notOk(error instanceof ForbiddenAddressError)
})

test('allowlisted addresses and hosts are reached', async (t) => {
  const receiver = await startReceiver()
  t.teardown(receiver.close)
  const { port } = receiver

  const cases: Array<{ form: string, url: string, policy: AddressPolicyOptions, agent?: Agent.Options }> = [
    { form: '127.0.0.1 by CIDR', url: `http://127.0.0.1:${port}/`, policy: { allow: ['127.0.0.1/32'] } },
    { form: '127.0.0.1 by exact IP', url: `http://127.0.0.1:${port}/`, policy: { allow: ['127.0.0.1'] } },
    { form: '127.0.0.1 in hex, by 127/8', url: `http://0x7f.1:${port}/`, policy: { allow: ['127.0.0.0/8'] } },
    { form: 'IPv4-mapped 127.0.0.1, unmapped before the allowlist', url: `http://[::ffff:127.0.0.1]:${port}/`, policy: { allow: ['127.0.0.0/8'] } },
    { form: '::1 by exact IP', url: `http://[::1]:${port}/`, policy: { allow: ['::1'] } },
    { form: '::1 by bracketed IP', url: `http://[::1]:${port}/`, policy: { allow: ['[::1]'] } },
    { form: '::1 by CIDR', url: `http://[::1]:${port}/`, policy: { allow: ['::1/128'] } },
    { form: 'localhost by hostname (real resolution)', url: `http://localhost:${port}/`, policy: { allow: ['localhost'] } },
    { form: 'localhost by hostname, case-insensitive', url: `http://LocalHost:${port}/`, policy: { allow: ['LOCALHOST'] } },
    { form: 'localhost by hostname, without autoSelectFamily', url: `http://localhost:${port}/`, policy: { allow: ['localhost'] }, agent: { connect: { autoSelectFamily: false } } },
    { form: 'a name whose every address is allowlisted', url: `http://trusted-loopback.test:${port}/`, policy: { allow: ['127.0.0.1'], lookup: onBoxDns } },
    { form: 'with extra Agent options passed through', url: `http://127.0.0.1:${port}/`, policy: { allow: ['127.0.0.1'] }, agent: { connections: 1, headersTimeout: 5000, connect: { timeout: 5000 } } }
  ]
  for (const { form, url, policy: policyOptions, agent: agentOptions } of cases) {
    await t.test(form, async (t) => {
      const options = { allowHttp: true, ...policyOptions }
      t.equal(createAddressPolicy(options).checkUrl(url), new URL(url).href)
      const before = receiver.received().requests
      const response = await sendOnBox(t, url, options, agentOptions)
      t.equal(response.statusCode, 200)
      t.equal(await response.body.text(), 'received')
      t.equal(receiver.received().requests, before + 1)
    })
  }
})

test('plain http is refused unless allowHttp', async (t) => {
  const receiver = await startReceiver()
  t.teardown(receiver.close)
  const url = `http://127.0.0.1:${receiver.port}/`

  const httpsOnly = createAddressPolicy({ allow: ['127.0.0.1'] })
  t.throws(() => httpsOnly.checkUrl(url), {
    code: INVALID_URL,
    statusCode: 400,
    message: `Invalid callback URL: plain http is not allowed (host 127.0.0.1:${receiver.port}); use https:, or set \`allowHttp\` to accept http`
  })
  await t.rejects(sendOnBox(t, url, { allow: ['127.0.0.1'] }), { code: INVALID_URL, message: /plain http is not allowed \(host 127\.0\.0\.1\)/ })
  t.same(receiver.received(), { connections: 0, requests: 0 }, 'the agent refuses http before connecting')

  const withHttp = createAddressPolicy({ allow: ['127.0.0.1'], allowHttp: true })
  t.equal(withHttp.checkUrl(url), url)
  const response = await sendOnBox(t, url, { allow: ['127.0.0.1'], allowHttp: true })
  await response.body.dump()
  t.equal(response.statusCode, 200)
  t.equal(receiver.received().requests, 1)
})

test('malformed URLs, other schemes and credentials are typed INVALID_URL errors', async (t) => {
  const policy = createAddressPolicy()
  const refused: Array<[string, RegExp]> = [
    ['not a url', /not an absolute URL; send an absolute https:\/\/ URL/],
    ['', /not an absolute URL/],
    ['/relative/path', /not an absolute URL/],
    ['//example.com/scheme-relative', /not an absolute URL/],
    ['https://[::1/unclosed', /not an absolute URL/],
    ['https://exa mple.com/', /not an absolute URL/],
    ['https://1.2.3.4.5/', /not an absolute URL/],
    ['https://0x100000000/', /not an absolute URL/],
    ['ftp://example.com/file', /the scheme ftp: is not allowed; use https:$/],
    ['file:///etc/passwd', /the scheme file: is not allowed/],
    ['javascript:alert(1)', /the scheme javascript: is not allowed/],
    ['data:text/plain,hello', /the scheme data: is not allowed/],
    ['ws://example.com/socket', /the scheme ws: is not allowed/],
    ['gopher://127.0.0.1:6379/_FLUSHALL', /the scheme gopher: is not allowed/],
    ['http://example.com/', /plain http is not allowed \(host example\.com\); use https:, or set `allowHttp` to accept http/],
    ['https://user:secret-password@example.com/', /the URL for host example\.com contains credentials; remove the user name and password from it/],
    ['https://user@example.com/', /contains credentials/],
    ['https://:secret-password@example.com/', /contains credentials/]
  ]
  for (const [url, message] of refused) {
    t.throws(() => policy.checkUrl(url), { code: INVALID_URL, statusCode: 400, message }, JSON.stringify(url))
  }
  t.throws(() => policy.checkUrl('https://user:secret-password@example.com/'), { message: /^(?!.*secret-password)/ }, 'the message does not leak the password')
  t.throws(() => createAddressPolicy({ allowHttp: true }).checkUrl('ftp://example.com/'), { code: INVALID_URL, message: /use https: or http:$/ })
})

test('checkUrl returns the normalised URL and resolves nothing', async (t) => {
  const policy = createAddressPolicy({ lookup: () => t.fail('checkUrl must not resolve names') })
  t.equal(policy.checkUrl('HTTPS://Example.COM:443/a/../b?x=1#frag'), 'https://example.com/b?x=1#frag')
  t.equal(policy.checkUrl('https://bücher.example/'), 'https://xn--bcher-kva.example/')
  t.equal(policy.checkUrl(`https://${PUBLIC_V4}/`), `https://${PUBLIC_V4}/`)
  t.equal(policy.checkUrl('https://1572395042/'), `https://${PUBLIC_V4}/`, 'a public address in decimal')
  t.equal(policy.checkUrl(`https://[${PUBLIC_V6}]:8443/`), `https://[${PUBLIC_V6}]:8443/`)
})

test('isAllowedAddress classifies without sending anything', async (t) => {
  const policy = createAddressPolicy()
  for (const address of [PUBLIC_V4, '8.8.8.8', '1.1.1.1', PUBLIC_V6, '2001:4860:4860::8888', '::ffff:93.184.216.34', '64:ff9b::5db8:d822']) {
    t.ok(policy.isAllowedAddress(address), `${address} is public unicast`)
  }
  for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.1', '169.254.169.254', 'fd00::1', '::', '64:ff9b::a00:1', '::5db8:d822', 'not-an-address', '', 'example.com']) {
    t.notOk(policy.isAllowedAddress(address), `${JSON.stringify(address)} is forbidden`)
  }

  const trusting = createAddressPolicy({ allow: ['10.0.0.0/8', 'fd00::/8', 'Internal.Example'] })
  t.ok(trusting.isAllowedAddress('10.1.2.3'))
  t.ok(trusting.isAllowedAddress('::ffff:10.1.2.3'), 'IPv4-mapped addresses are unmapped before the allowlist')
  t.ok(trusting.isAllowedAddress('fd00::1'))
  t.notOk(trusting.isAllowedAddress('fe80::1'), 'an IPv6 range does not trust other IPv6 ranges')
  t.notOk(trusting.isAllowedAddress('192.168.0.1'), 'an IPv4 range does not trust other IPv4 ranges')
  t.notOk(trusting.isAllowedAddress('64:ff9b::a00:1'), 'NAT64 of a trusted IPv4 address is not trusted')
  t.ok(trusting.isAllowedAddress(PUBLIC_V4), 'public addresses stay allowed')
})

test('invalid allow entries and agent options are refused at creation', async (t) => {
  for (const entry of ['not a host!', '10.0.0.0/33', 'example.com/path', 'example.com:8443', '*.example.com', 'user@example.com', '']) {
    t.throws(() => createAddressPolicy({ allow: [entry] }), {
      code: INVALID_POLICY,
      statusCode: 500,
      message: `Invalid address policy: \`allow\` entry ${JSON.stringify(entry)} is neither an IP address, a CIDR range (such as 10.0.0.0/8) nor a hostname (matched exactly: no wildcard, port or path); correct or remove it`
    }, JSON.stringify(entry))
  }

  const policy = createAddressPolicy()
  const bypasses: Agent.Options[] = [
    { connect: (options, callback) => callback(new Error('custom connector'), null) },
    { connect: { lookup: (hostname, options, callback) => callback(null, '127.0.0.1', 4) } }
  ]
  for (const options of bypasses) {
    t.throws(() => policy.createAgent(options), {
      code: INVALID_POLICY,
      message: /`connect` must be connector options without `lookup`: a custom connector or lookup would bypass the policy; pass `lookup` to createAddressPolicy\(\) instead/
    })
  }
})

test('checkUrl remembers a bounded number of allowed URLs, and never an error', async (t) => {
  // what checkUrl remembers it does not parse again: counting the parses shows what it remembers
  const canParse = URL.canParse
  let parsed = 0
  URL.canParse = (...args) => {
    parsed++
    return canParse(...args)
  }
  t.teardown(() => { URL.canParse = canParse })
  const policy = createAddressPolicy()
  const parsesFor = (urls: string[]): number => {
    const before = parsed
    for (const url of urls) policy.checkUrl(url)
    return parsed - before
  }
  const urls = (from: number, count: number): string[] => Array.from({ length: count }, (_, index) => `https://hooks.example.com/${from + index}`)

  t.equal(policy.checkUrl('https://HOOKS.example.com/a'), 'https://hooks.example.com/a')
  t.equal(parsesFor(['https://HOOKS.example.com/a']), 0, 'remembered')
  t.equal(policy.checkUrl('https://HOOKS.example.com/a'), 'https://hooks.example.com/a', 'the same answer when remembered')

  const many = urls(0, 5000)
  t.equal(parsesFor(many), 5000, 'each new URL is parsed')
  t.ok(parsesFor(many) >= 5000 - 1024, 'checked again, all but at most 1024 of them are parsed again: the memory is bounded')
  const few = urls(10_000, 100)
  parsesFor(few)
  t.equal(parsesFor(few), 0, 'a few receivers sent to again and again stay remembered')
  t.equal(policy.checkUrl('https://HOOKS.example.com/a'), 'https://hooks.example.com/a', 'the same answer after the memory was renewed')

  for (let round = 0; round < 2; round++) {
    const before = parsed
    t.throws(() => policy.checkUrl('https://127.0.0.1/a'), { code: FORBIDDEN }, `refused every time (${round + 1})`)
    t.equal(parsed - before, 1, 'a refusal is not remembered')
  }
})
