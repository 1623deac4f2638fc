// Being written in this session (core tracking/admin handlers): makeHandler(deps) + handler.
export const handler = async () => ({ statusCode: 503, body: '' });
