/**
 * A typed, promise-based view of the few `net-snmp` calls the interface poller needs: open a
 * v2c or v3 session to one agent, walk one table column, close. net-snmp ships no type
 * declarations, so the module is loaded through `createRequire` and described here by the
 * shape we use, which keeps `any` from leaking into the rest of the code.
 */
import { createRequire } from 'node:module';
import { isIPv6 } from 'node:net';

export interface SnmpUser {
  name: string;
  authProtocol?: 'sha' | 'md5';
  authKey?: string;
  privProtocol?: 'aes' | 'des';
  privKey?: string;
}

export interface SnmpSessionOptions {
  version: '2c' | '3';
  community: string;
  user?: SnmpUser;
  port: number;
  timeoutMs: number;
  retries: number;
}

/** One column cell: the row index (last OID arc) and its raw value. */
export interface ColumnCell {
  index: number;
  value: Buffer | number | bigint | string | null;
}

interface Varbind {
  oid: string;
  type: number;
  value: unknown;
}

interface NetSnmpSession {
  subtree(
    oid: string,
    maxRepetitions: number,
    feed: (varbinds: Varbind[]) => boolean | undefined,
    done: (error: Error | null) => void,
  ): void;
  on(event: 'error', listener: (error: Error) => void): void;
  close(): void;
}

interface NetSnmpModule {
  Version2c: number;
  Version3: number;
  SecurityLevel: { noAuthNoPriv: number; authNoPriv: number; authPriv: number };
  AuthProtocols: { md5: number; sha: number };
  PrivProtocols: { des: number; aes: number };
  createSession(target: string, community: string, options: object): NetSnmpSession;
  createV3Session(target: string, user: object, options: object): NetSnmpSession;
  isVarbindError(varbind: Varbind): boolean;
  varbindError(varbind: Varbind): string;
}

const snmp = createRequire(import.meta.url)('net-snmp') as NetSnmpModule;

/** getBulk repetitions per request: a 48-port switch's column fits in three round trips. */
const MAX_REPETITIONS = 20;

/** An IPv4 address seen through a dual-stack socket ("::ffff:192.0.2.1") is polled over IPv4. */
function agentAddress(address: string): { target: string; transport: 'udp4' | 'udp6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { target: mapped[1], transport: 'udp4' };
  return { target: address, transport: isIPv6(address) ? 'udp6' : 'udp4' };
}

function v3User(user: SnmpUser): object {
  const auth = user.authKey !== undefined && user.authKey !== '';
  const priv = auth && user.privKey !== undefined && user.privKey !== '';
  const level = priv
    ? snmp.SecurityLevel.authPriv
    : auth
      ? snmp.SecurityLevel.authNoPriv
      : snmp.SecurityLevel.noAuthNoPriv;
  return {
    name: user.name,
    level,
    authProtocol: snmp.AuthProtocols[user.authProtocol ?? 'sha'],
    authKey: user.authKey,
    privProtocol: snmp.PrivProtocols[user.privProtocol ?? 'aes'],
    privKey: user.privKey,
  };
}

export class SnmpSession {
  private readonly session: NetSnmpSession;
  /** A socket error (e.g. no IPv6 route) fails the walk in progress instead of crashing. */
  private socketError: Error | null = null;

  constructor(address: string, opts: SnmpSessionOptions) {
    const { target, transport } = agentAddress(address);
    const common = { port: opts.port, timeout: opts.timeoutMs, retries: opts.retries, transport };
    if (opts.version === '3') {
      if (!opts.user) throw new Error('SNMPv3 needs a user');
      this.session = snmp.createV3Session(target, v3User(opts.user), {
        ...common,
        version: snmp.Version3,
      });
    } else {
      this.session = snmp.createSession(target, opts.community, {
        ...common,
        version: snmp.Version2c,
      });
    }
    this.session.on('error', (error) => {
      this.socketError = error;
    });
  }

  /** Every cell of the table column under `columnOid` (empty if the agent has no such column). */
  walkColumn(columnOid: string): Promise<ColumnCell[]> {
    const prefix = `${columnOid}.`;
    const cells: ColumnCell[] = [];
    return new Promise((resolve, reject) => {
      this.session.subtree(
        columnOid,
        MAX_REPETITIONS,
        (varbinds) => {
          for (const vb of varbinds) {
            // noSuchObject/endOfMibView end the column; they are not an error for the poll.
            if (snmp.isVarbindError(vb) || !vb.oid.startsWith(prefix)) continue;
            const index = Number(vb.oid.slice(prefix.length));
            if (!Number.isSafeInteger(index)) continue;
            cells.push({ index, value: vb.value as ColumnCell['value'] });
          }
          return undefined;
        },
        (error) => {
          const failure = error ?? this.socketError;
          if (failure) reject(failure);
          else resolve(cells);
        },
      );
    });
  }

  close(): void {
    try {
      this.session.close();
    } catch {
      // Closing a session whose socket already failed throws "Not running"; nothing to release.
    }
  }
}
