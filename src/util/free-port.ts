// Asks the kernel for an unused loopback TCP port.
import { createServer } from 'node:net';

// Ports handed out recently in this process: the kernel may offer a just-closed port again before its first taker
// has bound it, so two servers started back to back could get the same one.
const recent: number[] = [];

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await kernelPort(host);
    if (recent.includes(port)) continue;
    recent.push(port);
    if (recent.length > 256) recent.shift();
    return port;
  }
}

function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
