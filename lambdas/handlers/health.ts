import { httpHandler, json } from './http.ts';

export const makeHandler = () => httpHandler(async () => json(200, { status: 'ok' }));

export const handler = makeHandler();
