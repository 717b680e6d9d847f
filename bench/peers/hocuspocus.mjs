// Hocuspocus with its SQLite extension on a file, for `cargo xtask bench`.
// Usage: node hocuspocus.mjs PORT DATABASE_FILE
// Listens on 127.0.0.1 only and prints "ready" once it accepts connections.
import { Server } from '@hocuspocus/server'
import { SQLite } from '@hocuspocus/extension-sqlite'

const [port, database] = process.argv.slice(2)
if (!port || !database) {
  console.error('usage: node hocuspocus.mjs PORT DATABASE_FILE')
  process.exit(2)
}

const server = new Server({
  address: '127.0.0.1',
  port: Number(port),
  quiet: true,
  extensions: [new SQLite({ database })]
})
await server.listen()
console.log('ready')
