import fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import { Type as Type1 } from 'typebox'
import { z } from 'zod'
import { expect, test } from 'tstyche'
import { callbackRouter } from '../../lib/index.js'
import type { CallbackTarget, PayloadOf, ResponseOf, SendResult } from '../../lib/index.js'

const app = fastify()
const router = callbackRouter()
declare const target: CallbackTarget

// the same event and answer in the three libraries
const typebox = router.post('{$url}/typebox', {
  name: 'typebox',
  schema: { body: Type.Object({ id: Type.String(), paid: Type.Boolean(), note: Type.Optional(Type.String()) }), response: { 200: Type.Object({ ok: Type.Boolean() }) } }
})
const typebox1 = router.post('{$url}/typebox1', {
  name: 'typebox1',
  schema: { body: Type1.Object({ id: Type1.String(), paid: Type1.Boolean(), note: Type1.Optional(Type1.String()) }), response: { 200: Type1.Object({ ok: Type1.Boolean() }) } }
})
const zod = router.post('{$url}/zod', {
  name: 'zod',
  schema: { body: z.object({ id: z.string(), paid: z.boolean(), note: z.string().optional() }), response: { 200: z.object({ ok: z.boolean() }) } }
})

test('a wrong payload is a compile error with TypeBox 0.34', () => {
  expect(app.callbacks.send).type.toBeCallableWith(typebox, target, { id: 'inv-1', paid: true, note: 'thanks' })
  expect(app.callbacks.send).type.not.toBeCallableWith(typebox, target, { id: 'inv-1', paid: 'yes' })
  expect(app.callbacks.send).type.not.toBeCallableWith(typebox, target, { id: 'inv-1' })
  expect(app.callbacks.enqueue).type.not.toBeCallableWith(typebox, target, { id: 1, paid: true })
})

test('a wrong payload is a compile error with typebox 1.x', () => {
  expect(app.callbacks.send).type.toBeCallableWith(typebox1, target, { id: 'inv-1', paid: true, note: 'thanks' })
  expect(app.callbacks.send).type.not.toBeCallableWith(typebox1, target, { id: 'inv-1', paid: 'yes' })
  expect(app.callbacks.send).type.not.toBeCallableWith(typebox1, target, { id: 'inv-1' })
  expect(app.callbacks.enqueue).type.not.toBeCallableWith(typebox1, target, { id: 1, paid: true })
})

test('a wrong payload is a compile error with zod', () => {
  expect(app.callbacks.send).type.toBeCallableWith(zod, target, { id: 'inv-1', paid: true, note: 'thanks' })
  expect(app.callbacks.send).type.not.toBeCallableWith(zod, target, { id: 'inv-1', paid: 'yes' })
  expect(app.callbacks.send).type.not.toBeCallableWith(zod, target, { id: 'inv-1' })
  expect(app.callbacks.enqueue).type.not.toBeCallableWith(zod, target, { id: 1, paid: true })
})

test('the result is typed from the response schema, whatever the library', async () => {
  expect(await app.callbacks.send(typebox, target, { id: 'a', paid: true })).type.toBe<SendResult<{ ok: boolean }>>()
  expect(await app.callbacks.send(typebox1, target, { id: 'a', paid: true })).type.toBe<SendResult<{ ok: boolean }>>()
  expect(await app.callbacks.send(zod, target, { id: 'a', paid: true })).type.toBe<SendResult<{ ok: boolean }>>()
})

test('zod: send() takes the body\'s input, the result is the answer\'s output', () => {
  const Event = z.object({ at: z.date(), attempt: z.number().default(1), note: z.string().transform(note => note.length) })
  const Ack = z.object({ ok: z.boolean(), seen: z.number().default(0) })
  const event = router.post('{$url}/event', { name: 'event', schema: { body: Event, response: { 200: Ack } } })
  expect<PayloadOf<typeof event>>().type.toBe<{ at: Date, attempt?: number | undefined, note: string }>()
  expect<ResponseOf<typeof event>>().type.toBe<{ ok: boolean, seen: number }>()
  expect(app.callbacks.send).type.toBeCallableWith(event, target, { at: new Date(), note: 'n' })
  expect(app.callbacks.send).type.not.toBeCallableWith(event, target, { at: new Date(), note: 3 })
})

test('typebox 1.x: its common kinds', () => {
  const kinds = router.post('{$url}/kinds', {
    name: 'kinds',
    schema: {
      body: Type1.Object({
        count: Type1.Integer(),
        tags: Type1.Array(Type1.String()),
        state: Type1.Union([Type1.Literal('open'), Type1.Literal('paid')]),
        parent: Type1.Union([Type1.String(), Type1.Null()])
      })
    }
  })
  expect<PayloadOf<typeof kinds>>().type.toBe<{ count: number, tags: string[], state: 'open' | 'paid', parent: string | null }>()
  expect(app.callbacks.send).type.not.toBeCallableWith(kinds, target, { count: 1, tags: [], state: 'closed', parent: null })
})

test('declared zod header and query parameters type the options', () => {
  const ping = router.post('{$url}/ping', { name: 'ping', schema: { headers: z.object({ 'x-attempt': z.number() }), querystring: z.object({ tenant: z.string().optional() }) } })
  expect(app.callbacks.send).type.toBeCallableWith(ping, target, undefined, { headers: { 'x-attempt': 1 } })
  expect(app.callbacks.send).type.not.toBeCallableWith(ping, target, undefined, { headers: { 'x-attempt': 'one' } })
  expect(app.callbacks.send).type.not.toBeCallableWith(ping, target, undefined)
})
