#!/usr/bin/env node
/** The `stratum` command. */
import { ConnectError, Code } from '@connectrpc/connect';

import { parseCommand, usage, UsageError } from './args';
import {
  cancel,
  importModel,
  model,
  models,
  run,
  runs,
  runStatus,
  SpecProblems,
  validate,
  workers,
  type Io,
} from './client-commands';
import { COMMANDS } from './commands';
import { serve, worker } from './serve';
import { replica } from './replica-command';
import { predict, serveModel } from './serving-commands';
import { deploy, deployments, logs, scale, undeploy } from './deploy-commands';
import { keys } from './keys-commands';
import { profile } from './profile-command';

export async function main(argv: readonly string[], io: Io): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    io.out(
      `stratum: ML pipelines from notebook to endpoint\n\ncommands:\n${COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n')}\n\nstratum help COMMAND for details`,
    );
    return 0;
  }
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      const spec = COMMANDS.find((c) => c.name === argv[0]);
      if (spec) {
        io.out(usage(spec));
        return 0;
      }
    }
    const cmd = parseCommand(argv, COMMANDS);
    const { args, flags } = cmd;
    switch (cmd.command) {
      case 'help': {
        const spec = COMMANDS.find((c) => c.name === args[0]);
        if (args[0] && !spec) throw new UsageError(`unknown command "${args[0]}"`);
        io.out(spec ? usage(spec) : COMMANDS.map((c) => usage(c)).join('\n\n'));
        return 0;
      }
      case 'serve':
        await serve(flags);
        return -1;
      case 'worker':
        await worker(flags);
        return -1;
      case 'validate':
        return await validate(args, flags, io);
      case 'run':
        return await run(args, flags, io);
      case 'runs':
        return await runs(flags, io);
      case 'run-status':
        return await runStatus(args, flags, io);
      case 'cancel':
        return await cancel(args, flags, io);
      case 'workers':
        return await workers(flags, io);
      case 'models':
        return await models(args, flags, io);
      case 'model':
        return await model(args, flags, io);
      case 'import':
        return await importModel(args, flags, io);
      case 'serve-model':
        return await serveModel(args, flags, io);
      case 'predict':
        return await predict(args, flags, io);
      case 'replica':
        return await replica(flags, io);
      case 'profile':
        return await profile(args, flags, io);
      case 'deploy':
        return await deploy(args, flags, io);
      case 'deployments':
        return await deployments(flags, io);
      case 'undeploy':
        return await undeploy(args, flags, io);
      case 'keys':
        return await keys(args, flags, io);
      case 'scale':
        return await scale(args, flags, io);
      case 'logs':
        return await logs(args, flags, io);
      default:
        throw new UsageError(`command "${cmd.command}" has no implementation`);
    }
  } catch (e) {
    return reportError(e, io);
  }
}

function reportError(e: unknown, io: Io): number {
  if (e instanceof UsageError) {
    io.err(`stratum: ${e.message}`);
    const spec = COMMANDS.find((c) => c.name === e.command);
    if (spec) io.err(`\nusage: ${usage(spec)}`);
    return 2;
  }
  if (e instanceof SpecProblems) {
    io.err(e.message);
    return 2;
  }
  if (e instanceof ConnectError) {
    if (e.code === Code.Unavailable || (/ECONNREFUSED|connect/i.test(e.rawMessage) && e.code === Code.Unknown)) {
      io.err(
        `stratum: cannot reach the control plane (${e.rawMessage}); is \`stratum serve\` running? Set --server or STRATUM_SERVER.`,
      );
      return 3;
    }
    io.err(`stratum: ${Code[e.code]?.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}: ${e.rawMessage}`);
    return e.code === Code.InvalidArgument ? 2 : 1;
  }
  io.err(`stratum: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
}

if (require.main === module) {
  const io: Io = {
    out: (s) => process.stdout.write(s + '\n'),
    err: (s) => process.stderr.write(s + '\n'),
    isTTY: Boolean(process.stderr.isTTY),
  };
  main(process.argv.slice(2), io).then((code) => {
    // Long-running commands (serve, worker) return -1 and keep the process alive.
    if (code >= 0) process.exitCode = code;
  });
}
