/**
 * Runs a gateway in a child process (for tests that kill it): `node --import tsx serve-child.ts CONFIG_FILE [INSTANCE]`.
 * Prints `listening <url>` once it accepts requests; SIGTERM closes it gracefully (audit flushed).
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { parseConfigText } from '../../src/config/load.js';
import { startGateway } from '../../src/main.js';

const file = process.argv[2]!;
const config = parseConfigText(readFileSync(file, 'utf8'), file, {});
const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', instance: process.argv[3], logger: pino({ level: process.env.OMEGA_TEST_LOG ?? 'silent' }) });
process.on('SIGTERM', () => void gateway.close().finally(() => process.exit(0)));
process.stdout.write(`listening ${gateway.url}\n`);
