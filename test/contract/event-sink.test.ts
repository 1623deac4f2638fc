import { rm } from 'node:fs/promises';
import { FirehoseClient, PutRecordBatchCommand, ServiceUnavailableException } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll } from 'vitest';
import { FirehoseEventSink } from '../../lambdas/adapters/aws/firehose-event-sink.ts';
import { tempHome } from '../support/local-stack.ts';
import { behavesAsAnEventSink } from './event-sink.contract.ts';
import { openLocalLake } from './local-lake.ts';

behavesAsAnEventSink('DurableLogEventSink (compacted into DuckDB)', {
  accepting: async () => {
    const home = await tempHome();
    const lake = await openLocalLake(home);
    return {
      sink: lake.sink,
      stored: lake.ids,
      close: async () => {
        await lake.close();
        await rm(home, { recursive: true, force: true });
      },
    };
  },
});

// Firehose only through an SDK mock, and only for what the durable log cannot do: fail.
const firehose = mockClient(FirehoseClient);
afterAll(() => {
  firehose.restore();
});

behavesAsAnEventSink('FirehoseEventSink (SDK mock: throttled on every call)', {
  failing: () => {
    firehose
      .reset()
      .on(PutRecordBatchCommand)
      .rejects(new ServiceUnavailableException({ message: 'Slow down.', $metadata: { httpStatusCode: 503 } }));
    return new FirehoseEventSink({
      client: new FirehoseClient({ region: 'us-east-1' }),
      streamName: 'featurelake-events',
      sleep: async () => undefined,
    });
  },
});
