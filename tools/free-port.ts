/**
 * tools/: the dev tooling bench/, scripts/ and test/ share, so that none of them borrows
 * from test/ (lint forbids it); src/, the product, never imports tools/.
 *
 * A TCP port free on 127.0.0.1 right now (the OS picks it): for servers tests and benchmarks start.
 */
import { createServer } from 'node:net'

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
    probe.on('error', reject)
  })
}
