import { lookup as dnsLookup } from 'node:dns'
import type { LookupAddress } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { domainToASCII } from 'node:url'
import ipaddr from 'ipaddr.js'
import { Agent, buildConnector } from 'undici'
import { ForbiddenAddressError, InvalidAddressPolicyError, InvalidUrlError, LookupFailedError } from '../util/errors.js'

export interface AddressPolicyOptions {
  /** Accept plain http URLs. Default false: https only. */
  allowHttp?: boolean
  /** Trusted hostnames (exact, case-insensitive) and IPs or CIDRs ('127.0.0.1', '10.0.0.0/8', '::1'). */
  allow?: string[]
  /** dns.lookup-compatible resolver; default node:dns lookup. */
  lookup?: LookupFunction
}

export interface AddressPolicy {
  /**
   * Checks a callback URL before anything is sent: an absolute http(s) URL (https only unless allowHttp),
   * without credentials, and not an IP literal of a forbidden address in any notation the WHATWG parser
   * normalises. Hostnames are not resolved here. Returns the normalised URL.
   * Throws FST_OPENAPI_CALLBACKS_INVALID_URL or FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS.
   */
  checkUrl (url: string): string
  /** true if the address (IPv4 or IPv6) is public unicast, or allowlisted. */
  isAllowedAddress (address: string): boolean
  /**
   * The dns.lookup-compatible resolver the agent uses; usable with other clients. It resolves through the
   * `lookup` option and calls back once, asynchronously, in the form asked for (`all` or not), with:
   * FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS and no address if any answer is forbidden, unless the host is
   * allowlisted by name; FST_OPENAPI_CALLBACKS_LOOKUP_FAILED if the resolver throws, fails with something that
   * is not an Error, or answers with no address or anything but IP addresses of their stated family (4 or 6).
   * Resolver errors pass through unchanged; a second callback is ignored. It sets no deadline: a resolver that
   * never calls back is ended by the connect timeout of the caller (the agent's `connect.timeout`).
   */
  lookup: LookupFunction
  /**
   * An undici Agent whose connector refuses, at connect time, plain http unless allowHttp and forbidden
   * addresses: IP literals, and hosts for which DNS returns any forbidden address. A refusal rejects
   * `undici.request()` with the typed error itself (FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS or
   * FST_OPENAPI_CALLBACKS_INVALID_URL); undici does not wrap it.
   * `connect` may carry connector options (timeout, TLS...), but neither a connector function nor a `lookup`.
   */
  createAgent (options?: Agent.Options): Agent
}

// The WHATWG URL parser turns every IPv4 notation (2130706433, 0x7f.1, 0177.0.0.1, 127.1) into dotted
// decimal and every IPv6 literal into its canonical bracketed form, so `isIP` suffices after it.
const stripBrackets = (hostname: string): string => hostname.replace(/^\[(.*)\]$/, '$1')

// The well-known NAT64 prefix (RFC 6052) carries an IPv4 address in its last 32 bits; IPv6-only networks
// with DNS64 (AWS, for one) reach every IPv4-only receiver through it, so the embedded address decides.
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96')
// ipaddr.js calls every IPv6 address it has no name for 'unicast', including IANA-reserved space such as
// the deprecated IPv4-compatible ::a.b.c.d. Only 2000::/3 is allocated for global unicast.
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3')
// checkUrl's memory of allowed URLs, renewed when full: a flood of distinct URLs cannot grow it
const ALLOWED_URLS_KEPT = 1024

/**
 * 'unicast' for a public unicast address, else what it is. Every other ipaddr.js range is forbidden,
 * including the transition ranges: NAT64 local-use 64:ff9b:1::/48 (the operator chooses where the IPv4
 * address sits), 6to4 2002::/16 and Teredo 2001::/32 (deprecated, and a local relay would deliver to the
 * embedded IPv4 address, which may be private) and IPv4-translated ::ffff:0:0/96.
 */
function rangeOf (address: string): string {
  if (!ipaddr.isValid(address)) {
    return 'not an IP address'
  }
  const ip = ipaddr.process(address) // unmaps ::ffff:a.b.c.d
  if (ip instanceof ipaddr.IPv4) {
    return ip.range()
  }
  if (ip.match(NAT64_WELL_KNOWN)) {
    const embedded = ipaddr.fromByteArray(ip.toByteArray().slice(12)).toString()
    const range = rangeOf(embedded)
    return range === 'unicast' ? range : `${range} (NAT64 of ${embedded})`
  }
  const range = ip.range()
  return range === 'unicast' && !ip.match(GLOBAL_UNICAST) ? 'outside global unicast 2000::/3' : range
}

export function createAddressPolicy (options: AddressPolicyOptions = {}): AddressPolicy {
  const { allowHttp = false, allow = [], lookup = dnsLookup as LookupFunction } = options

  const trustedRanges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = []
  const trustedHosts = new Set<string>()
  for (const entry of allow) {
    const bare = stripBrackets(entry)
    if (ipaddr.isValidCIDR(bare)) {
      const [network, bits] = ipaddr.parseCIDR(bare)
      trustedRanges.push([network, bits])
    } else if (ipaddr.isValid(bare)) {
      const ip = ipaddr.process(bare)
      trustedRanges.push([ip, ip.toByteArray().length * 8])
    } else {
      // Lower-cases and punycodes like the URL parser, but silently cuts at '/', '?', '#' and '\\'.
      const hostname = domainToASCII(entry)
      if (hostname === '' || /[/?#\\*]/.test(entry)) {
        throw new InvalidAddressPolicyError(`\`allow\` entry ${JSON.stringify(entry)} is neither an IP address, a CIDR range (such as 10.0.0.0/8) nor a hostname (matched exactly: no wildcard, port or path); correct or remove it`)
      }
      trustedHosts.add(hostname)
    }
  }

  function isAllowedAddress (address: string): boolean {
    if (ipaddr.isValid(address) && ipaddr.subnetMatch(ipaddr.process(address), { trusted: trustedRanges }, 'untrusted') === 'trusted') {
      return true
    }
    return rangeOf(address) === 'unicast'
  }

  function refuse (host: string, address: string): Error {
    return new ForbiddenAddressError(host, address, rangeOf(address))
  }

  function refuseHttp (host: string): Error {
    return new InvalidUrlError(`plain http is not allowed (host ${host}); use https:, or set \`allowHttp\` to accept http`)
  }

  // URLs checked and allowed, by text: a queue sends to the same few receivers again and again
  const allowedUrls = new Map<string, string>()

  function checkUrl (input: string): string {
    const known = allowedUrls.get(input)
    if (known !== undefined) return known
    const href = checkNewUrl(input)
    if (allowedUrls.size >= ALLOWED_URLS_KEPT) allowedUrls.clear()
    allowedUrls.set(input, href)
    return href
  }

  function checkNewUrl (input: string): string {
    if (!URL.canParse(input)) {
      throw new InvalidUrlError('it is not an absolute URL; send an absolute https:// URL')
    }
    const url = new URL(input)
    if (url.protocol === 'http:' && !allowHttp) {
      throw refuseHttp(url.host)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new InvalidUrlError(`the scheme ${url.protocol} is not allowed; use ${allowHttp ? 'https: or http:' : 'https:'}`)
    }
    if (url.username !== '' || url.password !== '') {
      throw new InvalidUrlError(`the URL for host ${url.host} contains credentials; remove the user name and password from it`)
    }
    const host = stripBrackets(url.hostname)
    if (isIP(host) !== 0 && !isAllowedAddress(host)) {
      throw refuse(url.hostname, host)
    }
    return url.href
  }

  // Node passes the options it needs: { all: true } when it falls back from one address to the next
  // (autoSelectFamily, the default), a single address otherwise. Every address it may connect to is checked.
  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    let answered = false
    // once, and never synchronously: Node's net misbehaves on a lookup that calls back twice or in the same tick
    const answer = (...args: Parameters<typeof callback>): void => {
      if (answered) return
      answered = true
      process.nextTick(callback, ...args)
    }
    const fail = (fault: string, cause?: unknown): void => {
      answer(new LookupFailedError(hostname, fault, { cause }), [])
    }
    try {
      lookup(hostname, lookupOptions, (err, given, family) => {
        if (err) {
          if (err instanceof Error) answer(err, [])
          else fail(`the resolver failed with ${describe(err)}, which is not an Error`)
          return
        }
        let addresses: LookupAddress[] | string
        try {
          addresses = readAnswer(given, family)
        } catch (error) {
          fail(`reading its answer threw ${String(error)}`, error)
          return
        }
        if (typeof addresses === 'string') {
          fail(addresses)
          return
        }
        const refused = trustedHosts.has(hostname.toLowerCase()) ? undefined : addresses.find(({ address }) => !isAllowedAddress(address))
        if (refused !== undefined) {
          answer(refuse(hostname, refused.address), [])
          return
        }
        if (lookupOptions.all === true) answer(null, addresses)
        else answer(null, addresses[0]!.address, addresses[0]!.family)
      })
    } catch (error) {
      fail(`the resolver threw ${String(error)}`, error)
    }
  }

  /**
   * Never set this Agent behind an HTTP proxy (ProxyAgent, EnvHttpProxyAgent, HTTP(S)_PROXY): the proxy
   * resolves the callback host itself, so the lookup below never sees the address actually reached.
   */
  function createAgent (agentOptions: Agent.Options = {}): Agent {
    const { connect, ...rest } = agentOptions
    if (typeof connect === 'function' || 'lookup' in (connect ?? {})) {
      throw new InvalidAddressPolicyError('createAgent() `connect` must be connector options without `lookup`: a custom connector or lookup would bypass the policy; pass `lookup` to createAddressPolicy() instead')
    }
    const connectSocket = buildConnector({ ...connect, lookup: guardedLookup })
    // Node skips the lookup for IP literals, so the connector checks them itself.
    const connector: buildConnector.connector = (connectOptions, callback) => {
      const { hostname, protocol } = connectOptions
      if (protocol === 'http:' && !allowHttp) {
        callback(refuseHttp(hostname), null)
        return
      }
      if (isIP(hostname) !== 0 && !isAllowedAddress(hostname)) {
        callback(refuse(hostname, hostname), null)
        return
      }
      connectSocket(connectOptions, callback)
    }
    return new Agent({ ...rest, connect: connector })
  }

  return { checkUrl, isAllowedAddress, lookup: guardedLookup, createAgent }
}

/**
 * The addresses of a resolver's answer (one address and its family, or a list of { address, family }), copied,
 * or the fault that makes it unusable: Node throws an uncaught TypeError on an empty list, for one.
 */
function readAnswer (given: unknown, family: unknown): LookupAddress[] | string {
  const entries: unknown = typeof given === 'string' ? [{ address: given, family }] : given
  if (!Array.isArray(entries)) return `it answered ${describe(given)}, neither an address nor a list of addresses`
  if (entries.length === 0) return 'it answered no address'
  const addresses: LookupAddress[] = []
  for (const entry of entries) {
    const { address, family } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>
    const version = typeof address === 'string' ? isIP(address) : 0
    if (version === 0) return `it answered ${describe(address)}, which is not an IP address`
    if (family !== version) return `it answered ${String(address)} with the family ${describe(family)}, not ${version}`
    addresses.push({ address: address as string, family: version })
  }
  return addresses
}

/** A resolver's value, for a message: never the value's own inspection, which may run its code. */
function describe (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return String(value)
  return Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : 'a function'
}
