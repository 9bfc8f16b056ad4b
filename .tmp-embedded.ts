import { startEmbeddedPostgres } from './src/db/embedded.ts'
const server = await startEmbeddedPostgres({ dataDir: '/tmp/emb/data', port: 55432 })
console.log('READY', server.url)
process.on('SIGUSR2', async () => { await server.stop(); process.exit(0) })
setInterval(() => {}, 1 << 30)
