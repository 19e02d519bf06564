import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A host that is not Graph, on another 127.0.0.1 port: where a redirect or a next link could send the
 * client. It records what reached it (above all, whether an Authorization header came along) and
 * answers like Graph would, so that a client that follows gets a plausible answer and the test sees the
 * leak rather than an unrelated failure.
 */

export interface ReceivedRequest {
	method: string;
	url: string;
	authorization: string | undefined;
}

export interface RecordingServer {
	url: string;
	received: ReceivedRequest[];
	close(): Promise<void>;
}

/** `answer` gives the JSON body for a request (default: an empty collection). */
export async function startRecordingServer(
	answer: (request: IncomingMessage) => unknown = () => ({ value: [] }),
): Promise<RecordingServer> {
	const received: ReceivedRequest[] = [];
	const sockets = new Set<Socket>();
	const server = createServer((request: IncomingMessage, response: ServerResponse) => {
		received.push({
			method: request.method ?? 'GET',
			url: request.url ?? '/',
			authorization: request.headers.authorization,
		});
		request.resume();
		request.on('end', () => {
			const body = Buffer.from(JSON.stringify(answer(request)));
			response.writeHead(200, {
				'Content-Type': 'application/json',
				'Content-Length': String(body.length),
			});
			response.end(body);
		});
	});
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('no TCP port');
	return {
		url: `http://127.0.0.1:${address.port}`,
		received,
		close: () =>
			new Promise<void>((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}
