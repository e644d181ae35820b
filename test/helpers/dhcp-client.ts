// SPDX-License-Identifier: BSD-2-Clause
/**
 * A real DHCP client in a VM's namespace: Debian's isc-dhcp-client
 * `dhclient`, with a script of our own (test/fixtures/dhclient-script.sh)
 * that applies the lease with ip(8) and records every call, and with its
 * configuration, lease and pid files in a directory of the caller's: nothing
 * of the host's (/etc/resolv.conf, /var/lib/dhcp) is read or written.
 * The client runs in the foreground (-d) under the lab, so the lab's
 * cleanup stops it.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from './lab.ts';
import { root } from './paths.ts';

export type DhcpRecord = Record<string, string> & { reason: string };

export class DhcpClients {
  constructor(private readonly lab: Lab, readonly dir: string) {
    copyFileSync(join(root, 'test/fixtures/dhclient-script.sh'), join(dir, 'dhclient-script.sh'));
    writeFileSync(join(dir, 'dhclient.conf'), [
      'option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;',
      'request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, host-name,',
      '  interface-mtu, rfc3442-classless-static-routes;',
      '',
    ].join('\n'));
  }

  /** dhclient's arguments for the VM whose interface is vm (in namespace vm). */
  args(vm: string): string[] {
    return ['-sf', join(this.dir, 'dhclient-script.sh'), '-cf', join(this.dir, 'dhclient.conf'),
      '-lf', join(this.dir, `${vm}.leases`), '-pf', join(this.dir, `${vm}.pid`), vm];
  }

  /** Start dhclient in the VM's namespace, in the foreground. */
  start(vm: string): ChildProcess {
    return this.lab.spawnIn(vm, 'setsid', ['dhclient', '-d', '-v', ...this.args(vm)]);
  }

  /** Every call of the script so far, oldest first. */
  records(vm: string): DhcpRecord[] {
    const file = join(this.dir, `${vm}.record`);
    if (!existsSync(file)) return [];
    // Only whole records: the script may be writing the last one.
    return readFileSync(file, 'utf8').split('--\n').slice(0, -1).filter((b) => b.trim() !== '').map((b) => {
      const o: Record<string, string> = {};
      for (const line of b.trim().split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) o[line.slice(0, i)] = line.slice(i + 1);
      }
      return o as DhcpRecord;
    });
  }

  /** The lease the VM was bound with, once it is. */
  bound(vm: string): DhcpRecord | undefined {
    return this.records(vm).find((r) => r.reason === 'BOUND');
  }
}
