/**
 * What notebook code imports: `import { connect } from "@stratum/kernel"`. The kernel and
 * its magics (issue 4) build on the same typed client as the CLI.
 */
export { createStratumClient as connect, type StratumClient, type ClientOptions } from '@stratum/server/dist/client';
