/**
 * A TCP proxy in front of PostgreSQL that a test can cut and restore: "the database is gone"
 * without stopping the shared server. Cut = every open connection destroyed and the port
 * closed, so new connections are refused (ECONNREFUSED), as when the server is down.
 * Reset = every open connection reset (RST to the client) while new ones are still accepted,
 * as when a firewall, NAT or load balancer drops its flows.
 */
import { createConnection, createServer, type Socket } from 'node:net'

export interface TcpProxy {
  port: number
  cut (): Promise<void>
  reset (): void
  restore (): Promise<void>
  close (): Promise<void>
}

export async function startTcpProxy (target: { host: string, port: number }, { up = true } = {}): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  const upstreamOf = new Map<Socket, Socket>()
  const server = createServer((client) => {
    const upstream = createConnection(target)
    upstreamOf.set(client, upstream)
    client.on('close', () => upstreamOf.delete(client))
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => { client.destroy(); upstream.destroy() })
    }
    client.pipe(upstream).pipe(client)
  })
  const listen = (port: number): Promise<void> => new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
  const stop = (): Promise<void> => new Promise((resolve) => {
    for (const socket of sockets) socket.destroy()
    if (!server.listening) return resolve()
    server.close(() => resolve())
  })
  // Take a free port once, then keep it: the app's DATABASE_URL points at it.
  await listen(0)
  const port = (server.address() as { port: number }).port
  if (!up) await stop()
  return {
    port,
    cut: stop,
    reset () {
      // The client reads ECONNRESET instead of an orderly end; PostgreSQL sees its side close.
      for (const [client, upstream] of upstreamOf) {
        client.resetAndDestroy()
        upstream.destroy()
      }
    },
    restore: () => server.listening ? Promise.resolve() : listen(port),
    close: stop
  }
}
