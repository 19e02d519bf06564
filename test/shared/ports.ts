import { createServer } from 'net';

/**
 * Whether a TCP port can be listened on, found by listening on it (real sockets): a connect would miss a port held on
 * another address, and the exact bind the server will do is the only reliable answer. On Linux a server on the
 * wildcard address (n8n's default `::`) also makes 127.0.0.1 on that port fail. Returns undefined when the port is
 * free, else the listen error's code (EADDRINUSE: in use; EACCES: a privileged port).
 */
export async function portProblem(port: number, host = '127.0.0.1'): Promise<string | undefined> {
	return await new Promise<string | undefined>((resolve) => {
		const server = createServer();
		server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
		server.listen(port, host, () => server.close(() => resolve(undefined)));
	});
}

/** The first of the candidates that is free right now, if any. */
export async function firstFreePort(
	candidates: number[],
	host = '127.0.0.1',
): Promise<number | undefined> {
	for (const port of candidates) if ((await portProblem(port, host)) === undefined) return port;
	return undefined;
}
