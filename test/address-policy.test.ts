import { test } from 'tap'
import http from 'node:http'
import type { LookupAddress } from 'node:dns'
import type { AddressInfo, LookupFunction } from 'node:net'
import { request, type Agent } from 'undici'
import { createAddressPolicy, type AddressPolicyOptions } from '../lib/address-policy.js'
import { ForbiddenAddressError } from '../lib/errors.js'

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
    const addresses = answers[hostname]
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

// Public unicast addresses appear only in fake DNS answers and in classification: a correct policy
// never connects to them, and no test sends traffic to any address but loopback.
const PUBLIC_V4 = '93.184.216.34'
const PUBLIC_V6 = '2606:4700::1111'

const dns = fakeLookup({
  'private.test': [v4('10.0.0.1')],
  'loopback.test': [v4('127.0.0.1')],
  'metadata.test': [v4('169.254.169.254')],
  'public-then-private.test': [v4(PUBLIC_V4), v4('127.0.0.1')],
  'private-then-public.test': [v4('127.0.0.1'), v4(PUBLIC_V4)],
  'public-v6-then-private-v4.test': [v6(PUBLIC_V6), v4('127.0.0.1')],
  'ipv6-loopback.test': [v6('::1')],
  'mapped.test': [v6('::ffff:127.0.0.1')],
  'nat64.test': [v6('64:ff9b::7f00:1')],
  'unique-local.test': [v6('fd00::2')],
  'link-local-v6.test': [v6('fe80::1')],
  'loopback-v4-then-v6.test': [v4('127.0.0.1'), v6('::1')],
  'loopback-v6-then-v4.test': [v6('::1'), v4('127.0.0.1')],
  'not-an-address.test': [v4('not-an-address')],
  'trusted-loopback.test': [v4('127.0.0.1')]
})

interface BlockedForm {
  /** what the form is, for the test name */
  form: string
  url: (port: number) => string
  /** an IP literal is refused by checkUrl already; a name only when connecting */
  literal: boolean
  policy?: AddressPolicyOptions
  agent?: Agent.Options
}

const literal = (form: string, host: string, scheme = 'http'): BlockedForm =>
  ({ form, literal: true, url: (port) => `${scheme}://${host}:${port}/callback` })
const name = (form: string, host: string, extra: Partial<BlockedForm> = {}): BlockedForm =>
  ({ form, literal: false, url: (port) => `http://${host}:${port}/callback`, policy: { allowHttp: true, lookup: dns }, ...extra })

const BLOCKED: BlockedForm[] = [
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
  literal('unspecified 0/8', '0.1.2.3'),
  // IPv6 loopback and unspecified, IPv4-mapped, -compatible and -translated
  literal('IPv6 unspecified [::]', '[::]'),
  literal('IPv6 loopback [::1]', '[::1]'),
  literal('IPv6 loopback, full form', '[0:0:0:0:0:0:0:1]'),
  literal('IPv6 loopback over https (refused before TLS)', '[::1]', 'https'),
  literal('IPv4-mapped loopback, dotted', '[::ffff:127.0.0.1]'),
  literal('IPv4-mapped loopback, hex', '[::ffff:7f00:1]'),
  literal('IPv4-mapped metadata address', '[::ffff:169.254.169.254]'),
  literal('IPv4-mapped private 10/8', '[::ffff:10.0.0.1]'),
  literal('IPv4-compatible loopback (deprecated ::/96)', '[::7f00:1]'),
  literal('IPv4-translated loopback ::ffff:0:0/96', '[::ffff:0:7f00:1]'),
  // IPv6 transition ranges that embed an IPv4 address
  literal('NAT64 of loopback', '[64:ff9b::7f00:1]'),
  literal('NAT64 of the metadata address', '[64:ff9b::a9fe:a9fe]'),
  literal('NAT64 local-use prefix', '[64:ff9b:1::7f00:1]'),
  literal('6to4 of loopback', '[2002:7f00:1::]'),
  literal('Teredo', '[2001::1]'),
  // Link-local, cloud metadata, carrier-grade NAT, private, reserved, multicast, broadcast
  literal('cloud metadata 169.254.169.254', '169.254.169.254'),
  literal('cloud metadata, hex', '0xa9.0xfe.0xa9.0xfe'),
  literal('cloud metadata, octal', '0251.0376.0251.0376'),
  literal('cloud metadata, decimal integer', '2852039166'),
  literal('carrier-grade NAT 100.64/10, low end', '100.64.0.1'),
  literal('carrier-grade NAT 100.64/10, high end', '100.127.255.254'),
  literal('private 10/8', '10.0.0.1'),
  literal('private 10/8, hex integer', '0x0a000001'),
  literal('private 172.16/12, low end', '172.16.0.1'),
  literal('private 172.16/12, high end', '172.31.255.254'),
  literal('private 192.168/16', '192.168.1.1'),
  literal('private 192.168/16, decimal integer', '3232235777'),
  literal('IETF protocol assignments 192.0.0/24', '192.0.0.8'),
  literal('documentation 192.0.2/24', '192.0.2.1'),
  literal('benchmarking 198.18/15, low end', '198.18.0.1'),
  literal('benchmarking 198.18/15, high end', '198.19.255.254'),
  literal('multicast 224.0.0.1', '224.0.0.1'),
  literal('multicast 239.255.255.250', '239.255.255.250'),
  literal('reserved 240/4', '240.0.0.1'),
  literal('limited broadcast', '255.255.255.255'),
  literal('IPv6 unique local fc00::/7 (fc00::1)', '[fc00::1]'),
  literal('IPv6 unique local fc00::/7 (fd00::1)', '[fd00::1]'),
  literal('IPv6 link-local fe80::/10', '[fe80::1]'),
  literal('IPv6 multicast ff02::1', '[ff02::1]'),
  literal('IPv6 deprecated site-local fec0::/10', '[fec0::1]'),
  literal('IPv6 documentation 2001:db8::/32', '[2001:db8::1]'),
  literal('IPv6 discard 100::/64', '[100::1]'),
  // Names
  { form: 'localhost (real resolution)', literal: false, url: (port) => `http://localhost:${port}/callback`, policy: { allowHttp: true } },
  { form: 'localhost over https (real resolution, refused before TLS)', literal: false, url: (port) => `https://localhost:${port}/callback`, policy: {} },
  name('a name resolving to 10.0.0.1', 'private.test'),
  name('a name resolving to 127.0.0.1', 'loopback.test'),
  name('a name resolving to 169.254.169.254', 'metadata.test'),
  name('a name resolving to a public, then a private address', 'public-then-private.test'),
  name('a name resolving to a private, then a public address', 'private-then-public.test'),
  name('a name resolving to a public IPv6, then a private IPv4 address', 'public-v6-then-private-v4.test'),
  name('a name resolving only to IPv6 loopback', 'ipv6-loopback.test'),
  name('a name resolving to IPv4-mapped loopback', 'mapped.test'),
  name('a name resolving to NAT64 of loopback', 'nat64.test'),
  name('a name resolving to IPv6 unique local', 'unique-local.test'),
  name('a name resolving to IPv6 link-local', 'link-local-v6.test'),
  name('a name resolving to something that is no address', 'not-an-address.test'),
  name('a name resolving to loopback, without autoSelectFamily (one address)', 'loopback.test', { agent: { connect: { autoSelectFamily: false } } }),
  name('a name resolving to a private, then a public address, without autoSelectFamily', 'private-then-public.test', { agent: { connect: { autoSelectFamily: false } } }),
  // A trusted address next to a forbidden one: a policy that checks only the first answer, or lets
  // Node fall back to the next, would reach the receiver here.
  name('a name resolving to trusted 127.0.0.1, then forbidden ::1', 'loopback-v4-then-v6.test', { policy: { allowHttp: true, allow: ['127.0.0.1'], lookup: dns } }),
  name('a name resolving to forbidden ::1, then trusted 127.0.0.1', 'loopback-v6-then-v4.test', { policy: { allowHttp: true, allow: ['127.0.0.1'], lookup: dns } })
]

test('every forbidden address form is refused with a typed error, and nothing reaches the receiver', async (t) => {
  const receiver = await startReceiver()
  t.teardown(receiver.close)
  t.ok(BLOCKED.length >= 40, `${BLOCKED.length} forms`)

  for (const { form, url: urlFor, literal, policy: policyOptions = { allowHttp: true }, agent: agentOptions } of BLOCKED) {
    await t.test(form, async (t) => {
      const policy = createAddressPolicy(policyOptions)
      const agent = policy.createAgent(agentOptions)
      t.teardown(() => agent.close())
      const url = urlFor(receiver.port)

      if (literal) {
        t.throws(() => policy.checkUrl(url), { code: FORBIDDEN }, 'checkUrl refuses the IP literal')
      } else {
        t.equal(policy.checkUrl(url), url, 'checkUrl does not resolve names')
      }

      const before = receiver.received()
      const error = await request(url, { dispatcher: agent }).then(
        () => t.fail('the request went through'),
        (error: unknown) => error
      )
      t.ok(error instanceof ForbiddenAddressError, 'undici rejects with the typed error itself, not a wrapper')
      t.match(error, { code: FORBIDDEN, statusCode: 400, message: /which is .+: only public unicast addresses are allowed; add the host or address to `allow` to trust it/ })
      t.same(receiver.received(), before, 'the receiver got no connection and no request')
    })
  }
  t.same(receiver.received(), { connections: 0, requests: 0 })
})

test('the error says which host, which address and what it is', async (t) => {
  const policy = createAddressPolicy({ allowHttp: true, lookup: dns })
  t.throws(() => policy.checkUrl('https://0x7f.1/x'), {
    code: FORBIDDEN,
    message: 'Callback host 127.0.0.1 resolves to 127.0.0.1, which is loopback: only public unicast addresses are allowed; add the host or address to `allow` to trust it'
  })
  t.throws(() => policy.checkUrl('https://[64:ff9b::a9fe:a9fe]/x'), {
    message: /^Callback host \[64:ff9b::a9fe:a9fe\] resolves to 64:ff9b::a9fe:a9fe, which is linkLocal \(NAT64 of 169\.254\.169\.254\):/
  })
  t.throws(() => policy.checkUrl('https://[::7f00:1]/x'), { message: /which is outside global unicast 2000::\/3:/ })
  t.throws(() => policy.checkUrl('https://[2002:7f00:1::]/x'), { message: /which is 6to4:/ })

  const agent = policy.createAgent()
  t.teardown(() => agent.close())
  await t.rejects(request('http://public-then-private.test:1/x', { dispatcher: agent }), {
    code: FORBIDDEN,
    message: /^Callback host public-then-private\.test resolves to 127\.0\.0\.1, which is loopback:/
  })
})

test('DNS errors pass through unchanged', async (t) => {
  const agent = createAddressPolicy({ allowHttp: true, lookup: dns }).createAgent()
  t.teardown(() => agent.close())
  await t.rejects(request('http://unknown.test:1/x', { dispatcher: agent }), { code: 'ENOTFOUND' })
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
    { form: 'a name whose every address is allowlisted', url: `http://trusted-loopback.test:${port}/`, policy: { allow: ['127.0.0.1'], lookup: dns } },
    { form: 'with extra Agent options passed through', url: `http://127.0.0.1:${port}/`, policy: { allow: ['127.0.0.1'] }, agent: { connections: 1, headersTimeout: 5000, connect: { timeout: 5000 } } }
  ]
  for (const { form, url, policy: policyOptions, agent: agentOptions } of cases) {
    await t.test(form, async (t) => {
      const policy = createAddressPolicy({ allowHttp: true, ...policyOptions })
      const agent = policy.createAgent(agentOptions)
      t.teardown(() => agent.close())
      t.equal(policy.checkUrl(url), new URL(url).href)
      const before = receiver.received().requests
      const response = await request(url, { dispatcher: agent })
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
  const agent = httpsOnly.createAgent()
  t.teardown(() => agent.close())
  await t.rejects(request(url, { dispatcher: agent }), { code: INVALID_URL, message: /plain http is not allowed \(host 127\.0\.0\.1\)/ })
  t.same(receiver.received(), { connections: 0, requests: 0 }, 'the agent refuses http before connecting')

  const withHttp = createAddressPolicy({ allow: ['127.0.0.1'], allowHttp: true })
  t.equal(withHttp.checkUrl(url), url)
  const httpAgent = withHttp.createAgent()
  t.teardown(() => httpAgent.close())
  const response = await request(url, { dispatcher: httpAgent })
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
