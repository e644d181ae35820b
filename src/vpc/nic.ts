/** The vmnic: a VM's NIC, with one unicast MAC. */
import { VPC_OP_NIC_GET_MAC, VPC_OP_NIC_SET_MAC } from '../ffi/index.ts';
import { macBytes, macString, newId, type Id } from './ids.ts';
import { ctlGet, ctlSet } from './kernel.ts';
import { openHandle, VpcObject, type OpenMode, type TxnOption } from './object.ts';

export interface NicOptions {
  mac?: string;
}

export class Nic extends VpcObject {
  readonly type = 'vmnic' as const;

  /** Wrap a descriptor the kernel handed back (SW_ADD_PORT with a descriptor). */
  static fromHandle(handle: number, id: Id): Nic {
    return new Nic(handle, id);
  }

  /** Create a vmnic (a new id if none is given); EEXIST if the id is taken. */
  static create(id: Id = newId(), opts: NicOptions = {}): Nic {
    const mac = opts.mac === undefined ? undefined : macBytes(opts.mac);
    const nic = new Nic(openHandle(id, 'vmnic', 'create'), id);
    try {
      if (mac) nic.setMacBytes(mac, {});
    } catch (e) {
      nic.close();      // uncommitted: the half-made vmnic goes with it
      throw e;
    }
    return nic;
  }

  static open(id: Id, mode: OpenMode = 'open'): Nic {
    return new Nic(openHandle(id, 'vmnic', mode), id);
  }

  setMac(mac: string, opts: TxnOption = {}): void {
    this.setMacBytes(macBytes(mac), opts);
  }

  private setMacBytes(mac: number[], opts: TxnOption): void {
    ctlSet(this.target('VPC_OP_NIC_SET_MAC'), VPC_OP_NIC_SET_MAC,
      { struct: 'vpc_vmnic_t', value: { txn: opts.txn ?? 0, mac } });
  }

  /** The MAC, or undefined while none is set. */
  mac(): string | undefined {
    const v = ctlGet(this.target('VPC_OP_NIC_GET_MAC'), VPC_OP_NIC_GET_MAC, 'vpc_vmnic_t');
    return v.mac.every((b) => b === 0) ? undefined : macString(v.mac);
  }
}
