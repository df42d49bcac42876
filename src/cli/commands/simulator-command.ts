import { createBankSimulator, defaultSandboxPartner } from '../../banks/simulator/index.js';
import { parseOptions, UsageError, type CliIo } from '../cli-io.js';


/** `gerbang simulator`: the bank simulator as a standalone server, until SIGINT/SIGTERM. */
export async function simulatorCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { port: { type: 'string' }, host: { type: 'string' }, allow: { type: 'string', multiple: true } });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a port number');
  const partner = defaultSandboxPartner();
  const simulator = createBankSimulator({ partners: [partner], allowedSourceAddresses: values.allow ?? ['127.0.0.1', '::1'] });
  const url = await simulator.listen(port, values.host ?? '127.0.0.1');
  io.out(
    JSON.stringify(
      {
        url,
        clientId: partner.clientId,
        clientSecret: partner.clientSecret,
        apiKey: partner.apiKey,
        apiSecret: partner.apiSecret,
        corporateId: partner.corporateId,
      },
      null,
      2,
    ),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.close();
  return 0;
}
