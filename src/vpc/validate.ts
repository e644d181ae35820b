// SPDX-License-Identifier: BSD-2-Clause
/** Range checks done before a call, so the caller hears which argument is wrong. */
import { VPC_VLAN_MAX, VPC_VLAN_MIN, VPC_VNI_MAX } from '../ffi/index.ts';
import { VpcArgumentError } from './ids.ts';

export function checkVni(vni: number, argument = 'vni'): number {
  if (!Number.isInteger(vni) || vni < 0 || vni > VPC_VNI_MAX) {
    throw new VpcArgumentError(argument, `${argument}: expected an integer 0-${VPC_VNI_MAX} (24 bits), got ${String(vni)}`);
  }
  return vni;
}

export function checkVlan(vlan: number, argument = 'vlan'): number {
  if (!Number.isInteger(vlan) || vlan < VPC_VLAN_MIN || vlan > VPC_VLAN_MAX) {
    throw new VpcArgumentError(argument, `${argument}: expected an integer ${VPC_VLAN_MIN}-${VPC_VLAN_MAX}, got ${String(vlan)}`);
  }
  return vlan;
}
