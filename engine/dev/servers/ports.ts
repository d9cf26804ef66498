/**
 * Free TCP ports on the loopback interface. The broker prefers the well-known
 * Kafka ports so a hand-started broker is where people expect it, and falls
 * back to an ephemeral port when something (another broker, a second test
 * run) already holds them.
 */
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * Whether we could bind host:port right now. Binding 127.0.0.1 also fails when
 * another process listens on 0.0.0.0 with that port, which is what we want.
 */
export function isPortFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel considers free right now (bind to 0, read it back, release it). */
export function ephemeralPort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read an ephemeral port'))));
    });
  });
}

/**
 * `preferred` if it is free and not in `avoid`, otherwise an ephemeral port
 * not in `avoid`. There is a window between this check and the server binding
 * the port; the broker start retries with new ports if it loses that race.
 */
export async function pickPort(preferred: number | undefined, avoid: ReadonlySet<number> = new Set(), host = LOOPBACK): Promise<number> {
  if (preferred !== undefined && preferred > 0 && !avoid.has(preferred) && (await isPortFree(preferred, host))) {
    return preferred;
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await ephemeralPort(host);
    if (!avoid.has(port)) return port;
  }
  throw new Error('could not find a free TCP port on ' + host);
}
