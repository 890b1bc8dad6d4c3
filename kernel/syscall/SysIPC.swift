// Shared memory and IPC are M4's. Until then each call answers not_implemented, which
// the spec declares for them, so programs can probe for the feature.

extension KernelSyscalls {
  mutating func shmCreate(size: UInt64) throws(AbiError) -> KernelObject { throw .notImplemented }

  mutating func shmMap(shm: HandleEntry<KernelObject>, addr: UserAddress, prot: VmProt) throws(AbiError) -> UserAddress {
    throw .notImplemented
  }

  mutating func endpointCreate() throws(AbiError) -> KernelObject { throw .notImplemented }

  mutating func ipcSend(endpoint: HandleEntry<KernelObject>, msg: UserInBuffer<UInt8>, handles: UserInBuffer<UInt32>) throws(AbiError) {
    throw .notImplemented
  }

  mutating func ipcRecv(endpoint: HandleEntry<KernelObject>, buf: UserOutBuffer<UInt8>, handles: UserOutBuffer<UInt32>, info: UserOut<IpcRecvInfo>) throws(AbiError) -> UInt64 {
    throw .notImplemented
  }
}
