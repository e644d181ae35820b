/**
 * The typed vpc API that host orchestration calls.  It knows nothing of
 * koffi: every call goes through src/ffi's Backend.
 */
export * from './errors.ts';
export { isId, macString, newId, VpcArgumentError, type Id } from './ids.ts';
export { Nic, type NicOptions } from './nic.ts';
export { VpcObject, type ObjectInfo, type ObjectType, type OpenMode, type TxnOption } from './object.ts';
export { Port } from './port.ts';
export {
  Switch, type AddedPort, type PortCount, type PortInfo, type PortKind, type PortSpec, type SwitchOptions,
} from './switch.ts';
export { kernelDescription, listObjects, ping, systemStats, type SystemStats } from './system.ts';
export { withTxn, withTxnAsync, type RetryOptions } from './txn.ts';
export { Vcc } from './vcc.ts';
