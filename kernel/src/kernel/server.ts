/**
 * tslab's ZmqServer (sockets, signatures, the shell loop), with three changes: executions get an
 * output that can also send `error` messages (tslab's handler only writes streams and displays),
 * comm_info requests get a `comm_info_reply` (tslab labels it `complete_reply`), and closing
 * ends the process once the sockets are closed.
 */
import { ZmqServer } from 'tslab/dist/jupyter';

import type { ExecuteRequest, StratumHandler } from './handler';
import { kernelOutput } from './output';

type Message = Parameters<ZmqServer['handleExecute']>[1];
type Socket = Parameters<ZmqServer['handleExecute']>[0];

export class StratumServer extends ZmqServer {
  constructor(
    private readonly stratum: StratumHandler,
    configPath: string,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {
    super(stratum as unknown as ConstructorParameters<typeof ZmqServer>[0], configPath);
  }

  override async handleExecute(sock: Socket, msg: Message): Promise<void> {
    const out = kernelOutput((msgType, content) => {
      const m = msg.createReply();
      m.header.msg_type = msgType;
      m.content = content;
      m.signAndSend(this.connInfo.key, this.iopub);
    });
    const reply = msg.createReply();
    reply.header.msg_type = 'execute_reply';
    reply.content = await this.stratum.handleExecute(msg.content as ExecuteRequest, out);
    reply.signAndSend(this.connInfo.key, sock);
  }

  override handleCommInfoRequest(sock: Parameters<ZmqServer['handleCommInfoRequest']>[0], msg: Message): void {
    const reply = msg.createReply();
    reply.header.msg_type = 'comm_info_reply';
    reply.content = { status: 'ok', comms: {} };
    reply.signAndSend(this.connInfo.key, sock);
  }

  override close(): void {
    super.close();
    // The process ends by itself once the sockets have flushed; if anything else still holds
    // the event loop (a stream to the control plane), it ends a little later regardless.
    setTimeout(() => this.exit(0), 2000).unref();
  }
}
