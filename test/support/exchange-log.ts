/**
 * Preloaded (`node --import`) into a local stack that spawnLocalStack starts as a
 * child process: appends every exchange its routes serve, as one JSON line, to the
 * file `$FEATURELAKE_TEST_EXCHANGE_LOG`, so that the test can check them against the
 * OpenAPI document (readExchangeViolations) after the child is gone, even by SIGKILL.
 */
import { appendFileSync } from 'node:fs';
import { ApiGatewayServer, type ObservedExchange } from '../../lambdas/adapters/local/api-gateway-server.ts';

const file = process.env.FEATURELAKE_TEST_EXCHANGE_LOG;
if (file) {
  const listen = ApiGatewayServer.prototype.listen;
  ApiGatewayServer.prototype.listen = function (this: ApiGatewayServer, ...args: Parameters<typeof listen>) {
    this.observeExchanges((exchange: ObservedExchange) => {
      // One write per exchange: a line is whole unless the process dies inside the write.
      appendFileSync(file, `${JSON.stringify({ ...exchange, rawBody: exchange.rawBody.toString('base64') })}\n`);
    });
    return listen.apply(this, args);
  };
}
