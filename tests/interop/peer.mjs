// A stock Yjs peer for the interoperability tests: plain `yjs` + `y-websocket`, exactly as
// a third-party client would use them, talking to a Hindsight server.
//
// This script owns nothing but one short-lived connection per run. It must never hang: every
// path ends in `finish`, and an overall deadline exits with status 2.
//
//   node peer.mjs <ws-base-url> <boardId> <token> write <noteId> <text>
//       Adds a note to the Detect region, then waits until a second, fresh peer sees it
//       through the server. Prints {"ok":true}.
//   node peer.mjs <ws-base-url> <boardId> <token> read <noteId> <timeoutMs>
//       Waits until the note exists with non-empty text and prints it as one JSON line.
//   node peer.mjs <ws-base-url> <boardId> <token> layout - <timeoutMs>
//       Waits until the board's regions are in the document and prints
//       {"template": meta.template, "regions": meta.layout} as one JSON line.
//   node peer.mjs <ws-base-url> <boardId> <token> timeline <idPrefix> <count>
//       Adds <count> timed entries to the Rough Timeline in one transaction (an incident
//       log: minutes apart, now and then an hour's pause, kinds in turn), ids
//       <idPrefix>0, <idPrefix>1, ..., all at one stored spot as a careless client would
//       write them; waits until a fresh peer sees the last one. Prints {"ok":true}.
//   node peer.mjs <ws-base-url> <boardId> <token> notes <idPrefix> <timeoutMs>
//       Joins, and once its first sync is done prints {"ids": [...]}: the ids of every
//       note whose id starts with <idPrefix>, sorted.
//
// <token> is the board link's token, passed the way any y-websocket app passes it: as
// the provider's `params`, which become the WebSocket URL's query.
//
// Exit status: 0 success, 1 failure (timeout, bad arguments, server closed us), 2 overall
// deadline exceeded.

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

// The board schema (see shared/src/schema.rs). The Detect region spans x 0..600,
// y 600..1500; a default-sized note at (40, 640) has its centre well inside it.
const NOTE = { x: 40, y: 640, w: 200, h: 140, color: 'blue', region: 'detect', author: 'yjs-peer' }
const DEFAULT_DEADLINE_MS = 20000

const usage = 'usage: node peer.mjs <ws-base-url> <boardId> <token> write <noteId> <text>\n' +
  '       node peer.mjs <ws-base-url> <boardId> <token> read <noteId> <timeoutMs>\n' +
  '       node peer.mjs <ws-base-url> <boardId> <token> layout - <timeoutMs>\n' +
  '       node peer.mjs <ws-base-url> <boardId> <token> timeline <idPrefix> <count>\n' +
  '       node peer.mjs <ws-base-url> <boardId> <token> notes <idPrefix> <timeoutMs>'

const [base, boardId, token, command, noteId, arg] = process.argv.slice(2)
if (!base || !boardId || !token || !noteId || arg === undefined || !['write', 'read', 'layout', 'timeline', 'notes'].includes(command)) {
  console.error(usage)
  process.exit(1)
}

/** Every provider this run opened, destroyed on exit. */
const providers = []
let finished = false

/** Destroys all providers, writes `out` (if any) and exits with `code`. Runs once. */
function finish (code, out) {
  if (finished) return
  finished = true
  for (const p of providers) p.destroy()
  const exit = () => process.exit(code)
  if (out !== undefined) {
    process.stdout.write(JSON.stringify(out) + '\n', exit)
  } else {
    exit()
  }
}

function fail (message, code = 1) {
  console.error(`peer.mjs ${command}: ${message}`)
  finish(code)
}

/** A fresh document connected to the board, with failures reported instead of retried. */
function connect (label) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(base, boardId, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true,
    params: { token }
  })
  providers.push(provider)
  provider.on('connection-error', () => console.error(`peer.mjs ${label}: connection error`))
  provider.on('connection-close', (event) => {
    if (event) console.error(`peer.mjs ${label}: connection closed (${event.code} ${event.reason})`)
  })
  // The server said reconnecting is pointless (4400-4499): give up now, not at the deadline.
  provider.on('closed', ({ code, reason }) => fail(`${label} rejected by server: ${code} ${reason}`))
  return { doc, provider }
}

/** Resolves once the provider has completed its first sync with the server. */
function synced (provider) {
  return new Promise((resolve) => {
    if (provider.synced) return resolve()
    const onSync = (isSynced) => {
      if (isSynced) {
        provider.off('sync', onSync)
        resolve()
      }
    }
    provider.on('sync', onSync)
  })
}

/** Resolves with `read(doc)` once it returns something other than `undefined`. */
function when (doc, read) {
  return new Promise((resolve) => {
    const check = () => {
      const value = read(doc)
      if (value !== undefined) {
        doc.off('update', check)
        resolve(value)
      }
    }
    doc.on('update', check)
    check()
  })
}

/** The note as plain JSON, or `undefined` while it is missing or has no text yet. */
function readNote (doc) {
  const note = doc.getMap('notes').get(noteId)
  if (!(note instanceof Y.Map)) return undefined
  const text = note.get('text')
  const value = text instanceof Y.Text ? text.toString() : typeof text === 'string' ? text : ''
  if (value === '') return undefined
  const field = (k) => note.get(k) ?? null
  return {
    id: noteId,
    text: value,
    x: field('x'),
    y: field('y'),
    w: field('w'),
    h: field('h'),
    color: field('color'),
    region: field('region'),
    createdAt: field('createdAt'),
    author: field('author'),
    // Which fields exist at all: an anonymous note must have no author key, not a null one.
    keys: Array.from(note.keys()).sort()
  }
}

async function write (text) {
  const { doc, provider } = connect('writer')
  await synced(provider)
  doc.transact(() => {
    const note = new Y.Map()
    doc.getMap('notes').set(noteId, note)
    note.set('text', new Y.Text(text))
    note.set('x', NOTE.x)
    note.set('y', NOTE.y)
    note.set('w', NOTE.w)
    note.set('h', NOTE.h)
    note.set('color', NOTE.color)
    note.set('region', NOTE.region)
    note.set('createdAt', Date.now())
    note.set('author', NOTE.author)
  })
  // Our update is only known to be on the server once someone else can fetch it from there.
  const witness = connect('witness')
  await when(witness.doc, (d) => (readNote(d)?.text === text ? true : undefined))
  finish(0, { ok: true })
}

const KINDS = ['reported', 'detected', 'action', 'communication', 'action', 'resolved', null]

async function timeline (count) {
  const { doc, provider } = connect('writer')
  await synced(provider)
  const start = Date.UTC(2026, 10, 20, 14, 0)
  let time = start
  doc.transact(() => {
    for (let i = 0; i < count; i++) {
      // Bursts a minute or two apart, with an hour's pause every 25 entries.
      time += (i % 25 === 24 ? 60 : 1 + (i % 3)) * 60000
      const note = new Y.Map()
      doc.getMap('notes').set(`${noteId}${i}`, note)
      note.set('text', new Y.Text(`Entry ${i}`))
      note.set('x', 820)
      note.set('y', 100)
      note.set('w', NOTE.w)
      note.set('h', NOTE.h)
      note.set('color', 'purple')
      note.set('region', 'timeline')
      note.set('createdAt', start + i)
      note.set('time', time)
      note.set('timePrecision', 'minute')
      const kind = KINDS[i % KINDS.length]
      if (kind) note.set('kind', kind)
    }
  })
  const last = `${noteId}${count - 1}`
  const witness = connect('witness')
  await when(witness.doc, (d) => (d.getMap('notes').get(last) ? true : undefined))
  finish(0, { ok: true })
}

async function read (timeoutMs) {
  const { doc } = connect('reader')
  setTimeout(() => fail(`note ${noteId} did not appear within ${timeoutMs} ms`), timeoutMs)
  finish(0, await when(doc, readNote))
}

/** The board's regions as any Yjs client finds them: `meta.layout`, an array of maps. */
function readLayout (doc) {
  const meta = doc.getMap('meta')
  const layout = meta.get('layout')
  if (!(layout instanceof Y.Array) || layout.length === 0) return undefined
  const template = meta.get('template')
  return {
    template: template instanceof Y.Map ? template.toJSON() : null,
    regions: layout.toArray().map((region) => region.toJSON())
  }
}

async function layout (timeoutMs) {
  const { doc } = connect('reader')
  setTimeout(() => fail(`the layout did not appear within ${timeoutMs} ms`), timeoutMs)
  finish(0, await when(doc, readLayout))
}

async function notes (timeoutMs) {
  const { doc, provider } = connect('reader')
  setTimeout(() => fail(`no first sync within ${timeoutMs} ms`), timeoutMs)
  await synced(provider)
  const ids = Array.from(doc.getMap('notes').keys()).filter((id) => id.startsWith(noteId))
  finish(0, { ids: ids.sort() })
}

let deadlineMs = DEFAULT_DEADLINE_MS
let run
if (command === 'write') {
  run = () => write(arg)
} else if (command === 'timeline') {
  const count = Number(arg)
  if (!Number.isInteger(count) || count <= 0) {
    console.error(`peer.mjs timeline: count must be a positive integer, got ${arg}\n${usage}`)
    process.exit(1)
  }
  run = () => timeline(count)
} else {
  const timeoutMs = Number(arg)
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    console.error(`peer.mjs ${command}: timeoutMs must be a positive number, got ${arg}\n${usage}`)
    process.exit(1)
  }
  deadlineMs = Math.max(deadlineMs, timeoutMs + 5000)
  run = { read, layout, notes }[command].bind(null, timeoutMs)
}
setTimeout(() => fail(`gave up after ${deadlineMs} ms`, 2), deadlineMs)
run().catch((err) => fail(err?.stack ?? String(err)))
