// SPDX-License-Identifier: BSD-2-Clause
/**
 * The typed vpc API that host orchestration calls.  It knows nothing of
 * koffi: every call goes through src/ffi's Backend.
 */
export * from './errors.ts';
export { type CamEntry, type CamKind, type CamSpec } from './cam.ts';
export { SWITCH_COUNTERS, VCC_COUNTERS, type SwitchStats, type VccStats } from './counters.ts';
export { cidrParse, ipBytes, ipString, isId, isNilId, macString, newId, NIL_ID, NIL_ID_REASON, VpcArgumentError, type Id } from './ids.ts';
export { Link, type LinkInfo, type LinkStats } from './link.ts';
export { Nat, type Eip, type NatConfig, type NatFlow, type NatStats, type NatUpstream, type SnatBinding } from './nat.ts';
export { Nic, type NicAddresses, type NicOptions } from './nic.ts';
export {
  type BumMode, type GatewayInfo, type GatewaySpec, type NeighbourEntry, type NeighbourKind, type NeighbourSpec,
  type SwitchPolicy, type SwitchPolicySpec,
} from './neighbour.ts';
export { type DhcpConfig, type DhcpOptions, type DhcpRoute } from './dhcp.ts';
export { VpcObject, type ObjectInfo, type ObjectType, type OpenMode, type TxnOption } from './object.ts';
export { Port } from './port.ts';
export {
  Router, Routes, type AttachGateway, type Attachment, type Route, type RouteSpec, type RouteTarget, type RouterStats,
} from './router.ts';
export {
  fwConfig, fwCreateSet, fwDestroySet, fwExport, fwGetSet, fwImport, fwListSets, fwReplaceRules, fwRules, fwSetConfig,
  fwSetOptions, formatRule, parseRule, FW_DEFAULT_PRIORITY, type FwAction, type FwConfig, type FwDirection, type FwFlow,
  type FwProto, type FwRemote, type FwRule, type FwRuleInfo, type FwSetInfo, type FwSetJson,
} from './firewall.ts';
export {
  Switch, type AddedPort, type Neighbours, type PortCount, type PortFirewall, type PortInfo, type PortKind, type PortSpec,
  type DumpPage, type SwitchOptions,
} from './switch.ts';
export { camFlushVni, checkInvariants, kernelDescription, listObjects, ping, systemStats, type SystemStats } from './system.ts';
export { withTxn, withTxnAsync, type RetryOptions } from './txn.ts';
export {
  answerUpcalls, reportAgentState, upcallStats, UpcallBatch, UpcallStream, type AgentState, type UpcallAnswer, type UpcallRequest, type UpcallResult,
  type UpcallStats,
} from './upcall.ts';
export { AnswerTable, AnswerTableChanges, type AnswerRecords } from './answer-table.ts';
export { Vcc, type VccConfig } from './vcc.ts';
export { UpcallChannelError } from '../ffi/index.ts';
