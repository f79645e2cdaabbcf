// The stored message's reader: every format up to this release's is read, each wrong field named, a newer format left be.
import t from 'tap'
import { MESSAGE_VERSION, readMessage } from '../lib/delivery/message.js'

const previous = {
  id: 'msg_1',
  key: 'invoicePaid',
  target: { kind: 'webhook', key: 'invoicePaid', name: 'invoice-paid', method: 'POST', url: 'https://hooks.test/a' },
  body: '{}',
  headers: { 'x-a': 'b' },
  attempt: 2,
  enqueuedAt: 1
}

t.test('a message of the previous format (no version) reads as this release\'s; optional fields are kept', async t => {
  t.same(readMessage(previous), { state: 'readable', message: { ...previous, version: MESSAGE_VERSION } })
  const full = { ...previous, version: MESSAGE_VERSION, body: undefined, subscriber: 'acme', trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'a=b' }, unknownSince: 5, unknownReported: true, extra: 1 }
  const { extra: _extra, ...kept } = full
  t.same(readMessage(full), { state: 'readable', message: kept }, 'unknown fields of a known format are dropped')
})

t.test('a newer format is left for a process that reads it', async t => {
  t.same(readMessage({ version: MESSAGE_VERSION + 1, anything: true }), { state: 'newer', version: MESSAGE_VERSION + 1, fault: `its format ${MESSAGE_VERSION + 1} is newer than this release reads (${MESSAGE_VERSION})` })
})

t.test('each field of the wrong type makes the message unreadable, and is named', async t => {
  const cases: Array<[unknown, RegExp]> = [
    [null, /not an object/],
    [[], /not an object/],
    [{ ...previous, version: 0 }, /version/],
    [{ ...previous, version: 1.5 }, /version/],
    [{ ...previous, id: '' }, /^id/],
    [{ ...previous, key: 3 }, /^key/],
    [{ ...previous, target: 'https://hooks.test' }, /^target is not an object/],
    [{ ...previous, target: { ...previous.target, kind: 'route' } }, /target.kind/],
    [{ ...previous, target: { ...previous.target, name: '' } }, /target.key or target.name/],
    [{ ...previous, target: { ...previous.target, key: undefined } }, /target.key or target.name/],
    [{ ...previous, target: { ...previous.target, method: 'post' } }, /target.method/],
    [{ ...previous, target: { ...previous.target, url: 'hooks.test/a' } }, /target.url/],
    [{ ...previous, target: { ...previous.target, url: 42 } }, /target.url/],
    [{ ...previous, body: null }, /^body/],
    [{ ...previous, headers: ['a'] }, /^headers/],
    [{ ...previous, headers: { a: null } }, /^headers/],
    [{ ...previous, subscriber: '' }, /^subscriber/],
    [{ ...previous, trace: { traceparent: 1 } }, /^trace/],
    [{ ...previous, attempt: 0 }, /^attempt/],
    [{ ...previous, attempt: '1' }, /^attempt/],
    [{ ...previous, enqueuedAt: Infinity }, /^enqueuedAt/],
    [{ ...previous, unknownSince: 'yesterday' }, /^unknownSince/],
    [{ ...previous, unknownReported: 'yes' }, /^unknownReported/]
  ]
  for (const [data, fault] of cases) {
    const read = readMessage(data)
    t.equal(read.state, 'unreadable', JSON.stringify(data))
    t.match(read, { fault }, JSON.stringify(data))
  }
})
